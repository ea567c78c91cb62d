import type { NbwssProperties } from '../core/config/properties.js';
import { W } from '../core/hints.js';
import { isUtf8 } from 'node:buffer';
import { EventEmitter, setMaxListeners } from 'node:events';
import type { ClientRequest } from 'node:http';
import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import { connectRequest, decodeMessage, epochSeconds, type NbwssMessage } from '../core/nbwss-message.js';
import type { PinType } from '../core/store/db.js';
import { derMatchesPin } from '../core/tls/fingerprint.js';
import { safeText } from '../core/text.js';
import { describeSocketError } from '../core/net-errors.js';
import { type CommandResponsePayload, mapCommand, maskedPath, METHODS, syntheticResponse } from '../core/api/command.js';

export interface ConnectTarget {
  hostName: string;
  url: string;
  groupId: string;
  priority: number;
  pinType: PinType;
  fingerprint: string;
  spkiFingerprint: string;
  token: string;
}

export interface ConnectionSettings {
  /** notification.sendTimeout: how long a NOTIFICATION REQUEST may take to be written to the endpoint. */
  sendTimeoutMs: number;
  /** keepAlive.scheduledRate in ms. */
  keepAliveMs: number;
  /** keepAlive.maxPongMissAllowed */
  maxPongMiss: number;
  /** exception.ignoreDecoder */
  ignoreDecoder: boolean;
  /** connect.timeout: bound on TCP + TLS + the HTTP upgrade, and then on the CONNECT RESPONSE. */
  connectTimeoutMs: number;
  /** REST calls in flight on this connection; more wait in order. */
  maxCommandsInFlight: number;
  /** COMMAND REQUESTs waiting for a slot, and their bytes: beyond either, answered 503 at once (api.maxQueued, api.maxQueuedBytes). */
  maxCommandsQueued: number;
  maxQueuedBytes: number;
  /** Above this many bytes not yet written to the endpoint, no new REST call starts (api.maxSendBuffer). */
  maxSendBufferBytes: number;
}

/** A connection's settings from the properties in force (each named above); read again on SIGHUP. */
export function connectionSettings(props: NbwssProperties): ConnectionSettings {
  return {
    sendTimeoutMs: props['notification.sendTimeout'],
    keepAliveMs: props['keepAlive.scheduledRate'] * 1000,
    maxPongMiss: props['keepAlive.maxPongMissAllowed'],
    ignoreDecoder: props['exception.ignoreDecoder'],
    connectTimeoutMs: props['connect.timeout'],
    // api.maxInFlight 0 (the default): the guide's thread pool, eight calls per thread.
    maxCommandsInFlight: props['api.maxInFlight'] || props['scheduledExecutor.threadPoolSize'] * 8,
    maxCommandsQueued: props['api.maxQueued'],
    maxQueuedBytes: props['api.maxQueuedBytes'],
    maxSendBufferBytes: props['api.maxSendBuffer'],
  };
}

/** Where COMMAND REQUESTs go: the daemon's REST client. */
export interface CommandHandler {
  /** The path every uri must lie under (api.baseUrl's). */
  basePath(): string;
  call(request: import('../core/api/command.js').RestRequest, signal: AbortSignal, room?: (bytes: number) => Promise<void>): Promise<CommandResponsePayload>;
  /** Told of every COMMAND answered (metrics). */
  answered?(method: string, responseCode: number, errorCode: string | undefined, seconds: number): void;
}

export interface Logger {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
  debug(fields: object, msg: string): void;
}

/**
 * The largest NBWSS message the daemon takes (1 MiB). A larger COMMAND REQUEST whose id can be read is answered 413
 * and the connection stays; any other larger message closes it with 1009.
 */
export const MAX_MESSAGE_BYTES = 1024 * 1024;
/** Frames are read up to this size so that an oversized COMMAND can be answered; beyond it ws closes with 1009. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** The id of a COMMAND REQUEST, read from the start of an oversized message (where the guide's messages have it). */
export function oversizedCommandId(head: string): string | undefined {
  if (!/"type"\s*:\s*"COMMAND"/.test(head) || !/"subType"\s*:\s*"REQUEST"/.test(head)) return undefined;
  return /"id"\s*:\s*"([^"\\\x00-\x1f]{1,100})"/.exec(head)?.[1];
}

function daemonSideReason(err: Error & { code?: string }): string {
  if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') return `closed by nbwss (1009): a message larger than ${MAX_FRAME_BYTES} bytes`;
  if (err.code === 'WS_ERR_INVALID_UTF8') return 'closed by nbwss (1007): a message that is not valid UTF-8';
  return `closed by nbwss: ${safeText(err.message)}`;
}

export class ConnectError extends Error {
  override readonly name = 'ConnectError';
}

/** The close code for a message that is not a valid NBWSS message, before and after the CONNECT RESPONSE alike (RFC 6455: 1007). */
export const BAD_MESSAGE_CLOSE = 1007;
/** The close code when the endpoint stopped answering pings (RFC 6455: 1001, going away). */
export const PONG_MISS_CLOSE = 1001;

/**
 * One connection to one endpoint: wss with exactly the pinned certificate
 * (or public key) trusted — checked after the TLS handshake and before a
 * single HTTP byte is sent — then CONNECT REQUEST / RESPONSE, then pings,
 * COMMAND REQUESTs answered through the REST client, NOTIFICATION REQUESTs
 * sent for the delivery side. Emits 'closed' (reason) once, whatever ends
 * an established connection, and 'notification-response' (message).
 */
export class EndpointConnection extends EventEmitter {
  state: 'connecting' | 'established' | 'closed' = 'connecting';
  since = new Date();
  private ws: WebSocket | undefined;
  private keepAlive: NodeJS.Timeout | undefined;
  private keepAliveMs = 0;
  private missed = 0;
  private awaitingPong = false;
  private closeReason: string | undefined;
  private settings: ConnectionSettings;
  /**
   * Aborts the REST calls of this connection when it closes. Made with the first COMMAND: most connections never
   * carry one, and aborting a controller makes a DOMException (measurable when 10,000 connections close at once).
   */
  private callsController: AbortController | undefined;
  private commandsInFlight = 0;
  private readonly commandQueue: { start: () => void; bytes: number }[] = [];
  private queuedBytes = 0;
  /** While the send buffer is over its bound: when it last shrank (a stuck endpoint is closed after sendTimeout). */
  private backlog: { timer: NodeJS.Timeout; since: number; amount: number } | undefined;

  constructor(
    readonly target: ConnectTarget,
    settings: ConnectionSettings,
    private readonly log: Logger,
    private readonly commands?: CommandHandler,
  ) {
    super();
    this.settings = settings;
  }

  /** The signal every REST call of this connection listens on. */
  private get callsSignal(): AbortSignal {
    if (!this.callsController) {
      this.callsController = new AbortController();
      // Each REST call in flight listens on it until it ends (callSignal): api.maxInFlight of them, not a leak to warn of.
      setMaxListeners(0, this.callsController.signal);
      // A connection already closed (a COMMAND read before the close was seen) starts no call.
      if (this.state === 'closed') this.callsController.abort();
    }
    return this.callsController.signal;
  }

  /** What this connection uses now (status shows it). */
  get inForce(): ConnectionSettings {
    return this.settings;
  }

  /** Property changes reach live connections: a new ping rate restarts the keep-alive timer. */
  applySettings(next: ConnectionSettings): void {
    const before = this.settings;
    this.settings = next;
    if (this.state === 'established' && next.keepAliveMs !== before.keepAliveMs) this.startKeepAlive();
    this.drainCommands();
  }

  /** Resolves once the endpoint accepted the token; rejects with why not. */
  connect(): Promise<void> {
    const target = this.target;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (reason: string, code = 1000) => {
        if (settled) return;
        settled = true;
        clearTimeout(responseTimer);
        this.shutdown(reason, code);
        reject(new ConnectError(reason));
      };
      let responseTimer: NodeJS.Timeout | undefined;
      let pinError: string | undefined;
      const ws = new WebSocket(target.url, {
        rejectUnauthorized: false, // the pin decides, not the CA chain
        // One TLS context for every endpoint: making one per connection (loading the CA store each time, which the pin
        // makes irrelevant) was the largest cost of connecting 2,000 groups (`npm run bench:daemon`). ws hands its options
        // to tls.connect; its types do not name this one.
        ...({ secureContext: clientContext() } as WebSocket.ClientOptions),
        handshakeTimeout: this.settings.connectTimeoutMs,
        perMessageDeflate: false,
        // NBWSS messages are small (1 MiB, MAX_MESSAGE_BYTES); a frame is read up to 16 MiB so that an oversized
        // COMMAND is answered 413 rather than the connection closed; beyond that ws closes with 1009.
        maxPayload: MAX_FRAME_BYTES,
        // UTF-8 is checked by decode(): invalid text is ignored (exception.ignoreDecoder=true) or closed 1007 with a reason.
        skipUTF8Validation: true,
        finishRequest: (req: ClientRequest) => {
          // Send the upgrade request only once the certificate matches the pin.
          req.on('socket', (socket) => {
            const tls = socket as TLSSocket;
            const check = () => {
              const raw = tls.getPeerCertificate()?.raw;
              if (raw && derMatchesPin(target, raw)) return void req.end();
              pinError = `certificate does not match the pin (${target.pinType === 'spki' ? 'public key' : 'certificate'} SHA-256 ${target.pinType === 'spki' ? target.spkiFingerprint : target.fingerprint}); run ${W.check} ${target.hostName}`;
              req.destroy(new Error(pinError));
            };
            if (tls.encrypted && !tls.connecting && tls.getPeerCertificate()?.raw) check();
            else tls.once('secureConnect', check);
          });
        },
      });
      this.ws = ws;
      ws.on('error', (err: Error & { code?: string }) => {
        // ws reports what it refused itself (too large, invalid UTF-8) and closes: a daemon-side close, never blamed on the endpoint.
        const own = daemonSideReason(err);
        if (settled) {
          this.closeReason ??= own;
          return;
        }
        fail(pinError ?? (own.startsWith('closed by nbwss (') ? own : safeText(describe(err))));
      });
      ws.on('unexpected-response', (_req, res) => fail(`the endpoint answered HTTP ${res.statusCode} instead of a WebSocket upgrade`));
      ws.on('close', (code, why) => {
        // The endpoint's close reason is text from outside: escaped before it is logged, stored or shown.
        const said = why.length ? ` ${safeText(why.toString())}` : '';
        if (!settled) return fail(pinError ?? `closed during the handshake (${code}${said})`);
        this.shutdown(this.closeReason ?? `closed by the endpoint (${code}${said})`, undefined);
      });
      ws.on('open', () => {
        const req = connectRequest(target.token);
        responseTimer = setTimeout(
          () => fail(`no CONNECT RESPONSE within connect.timeout (${this.settings.connectTimeoutMs} ms)`),
          this.settings.connectTimeoutMs,
        );
        ws.send(JSON.stringify(req));
        const onMessage = (data: WebSocket.RawData, isBinary: boolean) => {
          if (bytesOf(data).length > MAX_MESSAGE_BYTES)
            return fail(`closed by nbwss (1009): a message larger than ${MAX_MESSAGE_BYTES} bytes during CONNECT`, 1009);
          const decoded = this.decode(data, isBinary);
          if (!decoded) return; // ignored (exception.ignoreDecoder=true)
          if (!decoded.ok)
            return fail(`closed by nbwss (${BAD_MESSAGE_CLOSE}): not a valid NBWSS message during CONNECT: ${safeText(decoded.reason)}`, BAD_MESSAGE_CLOSE);
          const message = decoded.message;
          if (message.type === 'COMMAND' && message.subType === 'REQUEST') {
            // Not silently dropped: the cloud hears that the connection is not established yet.
            this.log.warn({ host: target.hostName, id: safeText(message.id) }, 'COMMAND REQUEST before the CONNECT RESPONSE answered 425');
            return this.respond(
              message.id,
              syntheticResponse('NBWSS_NOT_CONNECTED', 'the connection is not established yet: answer the CONNECT REQUEST first'),
            );
          }
          if (message.type === 'CONNECT' && message.subType === 'RESPONSE' && message.id !== req.id)
            return fail(`the CONNECT RESPONSE names another id (${safeText(String(message.id).slice(0, 40))}, not ${req.id})`);
          if (message.type !== 'CONNECT' || message.subType !== 'RESPONSE')
            return this.log.debug({ host: target.hostName, type: message.type, subType: message.subType }, 'message before the CONNECT RESPONSE ignored');
          clearTimeout(responseTimer);
          if ((message.payload as { valid?: unknown }).valid !== true) return fail('token rejected');
          settled = true;
          ws.off('message', onMessage);
          ws.on('message', (raw, bin) => this.onMessage(raw, bin));
          this.state = 'established';
          this.since = new Date();
          this.startKeepAlive();
          resolve();
        };
        ws.on('message', onMessage);
      });
    });
  }

  /** Decode a frame; undefined when it is to be ignored (exception.ignoreDecoder=true), logged. */
  private decode(data: WebSocket.RawData, isBinary: boolean): ReturnType<typeof decodeMessage> | undefined {
    const buf = bytesOf(data);
    const decoded: ReturnType<typeof decodeMessage> = isBinary
      ? { ok: false, reason: 'a binary frame' }
      : !isUtf8(buf)
        ? { ok: false, reason: 'not valid UTF-8' }
        : decodeMessage(buf.toString('utf8'));
    if (decoded.ok || !this.settings.ignoreDecoder) return decoded;
    this.log.warn(
      { host: this.target.hostName, reason: safeText(decoded.reason) },
      'ignoring a message that is not a valid NBWSS message (exception.ignoreDecoder=true)',
    );
    return undefined;
  }

  private startKeepAlive(): void {
    const ws = this.ws!;
    clearInterval(this.keepAlive);
    if (this.keepAliveMs === 0)
      ws.on('pong', () => {
        this.awaitingPong = false;
        this.missed = 0;
      });
    this.keepAliveMs = this.settings.keepAliveMs;
    this.keepAlive = setInterval(() => {
      if (this.awaitingPong) {
        this.missed++;
        // Closed when the maximum is reached, with a close frame: the endpoint hears why.
        if (this.missed >= this.settings.maxPongMiss) {
          this.log.warn({ host: this.target.hostName, missed: this.missed }, 'pongs missed; closing');
          this.close(PONG_MISS_CLOSE, `closed by nbwss (${PONG_MISS_CLOSE}): ${this.missed} pong${this.missed === 1 ? '' : 's'} missed in a row`);
          return;
        }
      }
      this.awaitingPong = true;
      ws.ping();
    }, this.keepAliveMs);
  }

  private onMessage(raw: WebSocket.RawData, isBinary: boolean): void {
    const bytes = bytesOf(raw);
    if (bytes.length > MAX_MESSAGE_BYTES) {
      const tooLarge = bytes;
      const id = isBinary ? undefined : oversizedCommandId(tooLarge.subarray(0, 4096).toString('utf8'));
      if (id !== undefined) {
        // The cloud hears which of its COMMANDs was too large; its other calls go on.
        this.log.warn({ host: this.target.hostName, id: safeText(id), bytes: tooLarge.length }, 'COMMAND REQUEST larger than 1 MiB answered 413');
        this.respond(
          id,
          syntheticResponse(
            'NBWSS_REQUEST_TOO_LARGE',
            `the COMMAND REQUEST is ${tooLarge.length} bytes; nbwss takes messages of at most ${MAX_MESSAGE_BYTES} bytes`,
          ),
        );
        return;
      }
      this.log.warn({ host: this.target.hostName, bytes: tooLarge.length }, 'closing: a message larger than 1 MiB');
      this.close(1009, `closed by nbwss (1009): a message of ${tooLarge.length} bytes, larger than ${MAX_MESSAGE_BYTES}`);
      return;
    }
    const decoded = this.decode(bytes, isBinary);
    if (!decoded) return;
    if (!decoded.ok) {
      this.log.warn({ host: this.target.hostName, reason: safeText(decoded.reason) }, 'closing: a message that is not a valid NBWSS message');
      this.close(BAD_MESSAGE_CLOSE, `closed by nbwss (${BAD_MESSAGE_CLOSE}): not a valid NBWSS message: ${safeText(decoded.reason)}`);
      return;
    }
    this.handle(decoded.message);
  }

  private handle(message: NbwssMessage): void {
    if (message.type === 'COMMAND' && message.subType === 'REQUEST') return void this.command(message);
    if (message.type === 'NOTIFICATION' && message.subType === 'RESPONSE') return void this.emit('notification-response', message);
    this.log.debug({ host: this.target.hostName, type: message.type, subType: message.subType }, 'message ignored');
  }

  /** One COMMAND REQUEST, one COMMAND RESPONSE with its id, whatever happens. */
  private async command(message: NbwssMessage): Promise<void> {
    const started = performance.now();
    const base = this.commands?.basePath() ?? '/netbackup';
    const mapped = mapCommand(message.payload, base);
    const asked = message.payload as { method?: unknown; uri?: unknown };
    const logged = {
      host: this.target.hostName,
      id: safeText(message.id),
      method: typeof asked.method === 'string' ? safeText(asked.method.slice(0, 10)) : null,
      path: typeof asked.uri === 'string' ? safeText(maskedPath(asked.uri).slice(0, 200)) : null,
    };
    let answer: CommandResponsePayload;
    if (!mapped.ok) answer = mapped.response;
    else if (!this.commands) answer = syntheticResponse('NBWSS_API_UNREACHABLE', 'no REST client');
    else if (this.full(mapped.request.body?.length ?? 0))
      answer = syntheticResponse(
        'NBWSS_BUSY',
        `${this.commandQueue.length} COMMANDs (${this.queuedBytes} bytes) already wait on this connection (api.maxQueued ${this.settings.maxCommandsQueued}, api.maxQueuedBytes ${this.settings.maxQueuedBytes}): try again later`,
      );
    else {
      await this.slot(mapped.request.body?.length ?? 0);
      if (this.isClosed()) return this.releaseSlot();
      const reader = { bytes: 0 };
      try {
        answer = await this.commands.call(mapped.request, this.callsSignal, (bytes) => this.room(reader, bytes));
      } finally {
        this.reading.delete(reader);
        this.releaseSlot();
      }
      if (this.isClosed()) {
        this.log.info({ ...logged, ms: Math.round(performance.now() - started) }, 'COMMAND abandoned: the connection closed');
        return;
      }
    }
    this.respond(message.id, answer);
    this.commands?.answered?.(
      typeof asked.method === 'string' && (METHODS as readonly string[]).includes(asked.method) ? asked.method : 'OTHER',
      answer.responseCode,
      answer.headers['x-nbwss-error'],
      (performance.now() - started) / 1000,
    );
    const level = answer.headers['x-nbwss-error'] ? 'warn' : 'info';
    this.log[level](
      {
        ...logged,
        responseCode: answer.responseCode,
        ...(answer.headers['x-nbwss-error'] ? { errorCode: answer.headers['x-nbwss-error'] } : {}),
        ms: Math.round(performance.now() - started),
      },
      'COMMAND answered',
    );
  }

  private isClosed(): boolean {
    return this.state === 'closed';
  }

  /** REST answers being read for this connection, and their bytes so far (not yet handed to the socket). */
  private readonly reading = new Set<{ bytes: number }>();

  /**
   * Back-pressure on REST answers: a chunk is taken in only while what waits to be written to the endpoint and what
   * is being read stay within api.maxSendBuffer — or when this is the oldest answer being read and nothing waits to
   * be sent (one answer larger than the bound still goes). While the cloud does not read, the REST answers wait (TCP holds them
   * at the REST service), not the daemon's memory; a connection that stays stuck is closed and its calls aborted.
   */
  private async room(reader: { bytes: number }, bytes: number): Promise<void> {
    this.reading.add(reader);
    const fits = () => {
      let others = 0;
      for (const r of this.reading) if (r !== reader) others += r.bytes;
      const buffered = this.ws?.bufferedAmount ?? 0;
      // The oldest answer being read always moves while nothing waits to be sent: readers never wait on each other.
      const oldest = this.reading.values().next().value === reader;
      return buffered + others + reader.bytes + bytes <= this.settings.maxSendBufferBytes || (buffered === 0 && oldest);
    };
    while (!fits() && !this.isClosed()) {
      if (this.sendBufferFull()) this.watchBacklog(); // a stuck endpoint is closed, and the wait ends with it
      await new Promise((r) => setTimeout(r, 20));
    }
    reader.bytes += bytes;
  }

  /** Whether a COMMAND of this many body bytes would go past the bounds of what waits (those that need not wait never are). */
  private full(bytes: number): boolean {
    if (this.commandsInFlight < this.settings.maxCommandsInFlight && !this.sendBufferFull()) return false;
    return this.commandQueue.length >= this.settings.maxCommandsQueued || this.queuedBytes + bytes > this.settings.maxQueuedBytes;
  }

  private sendBufferFull(): boolean {
    return (this.ws?.bufferedAmount ?? 0) > this.settings.maxSendBufferBytes;
  }

  private slot(bytes: number): Promise<void> {
    if (this.commandsInFlight < this.settings.maxCommandsInFlight && !this.sendBufferFull() && this.commandQueue.length === 0) {
      this.commandsInFlight++;
      return Promise.resolve();
    }
    this.queuedBytes += bytes;
    return new Promise((resolve) =>
      this.commandQueue.push({
        bytes,
        start: () => {
          this.queuedBytes -= bytes;
          resolve();
        },
      }),
    );
  }

  private releaseSlot(): void {
    this.commandsInFlight--;
    this.drainCommands();
  }

  private drainCommands(): void {
    while (this.commandQueue.length && (this.state === 'closed' || (this.commandsInFlight < this.settings.maxCommandsInFlight && !this.sendBufferFull()))) {
      this.commandsInFlight++;
      this.commandQueue.shift()!.start();
    }
    if (this.commandQueue.length && this.state !== 'closed' && this.sendBufferFull()) this.watchBacklog();
  }

  /**
   * Back-pressure: while more than api.maxSendBuffer bytes wait to be written to the endpoint, no REST call starts;
   * an endpoint that reads nothing at all for notification.sendTimeout is closed (1011), as a stuck send is.
   */
  private watchBacklog(): void {
    if (this.backlog || !this.ws) return;
    const ws = this.ws;
    const check = () => {
      const backlog = this.backlog;
      if (!backlog) return;
      if (this.state === 'closed' || !this.sendBufferFull()) {
        clearInterval(backlog.timer);
        this.backlog = undefined;
        this.drainCommands();
        return;
      }
      if (ws.bufferedAmount < backlog.amount) {
        backlog.amount = ws.bufferedAmount;
        backlog.since = performance.now();
      } else if (performance.now() - backlog.since > this.settings.sendTimeoutMs) {
        clearInterval(backlog.timer);
        this.backlog = undefined;
        this.log.warn({ host: this.target.hostName, buffered: ws.bufferedAmount }, 'the endpoint reads nothing; closing');
        this.close(1011, `closed by nbwss (1011): the endpoint read nothing for notification.sendTimeout (${this.settings.sendTimeoutMs} ms)`);
      }
    };
    this.backlog = { timer: setInterval(check, 100), since: performance.now(), amount: ws.bufferedAmount };
  }

  private respond(id: string, payload: CommandResponsePayload): void {
    this.send({ version: '1.0', id, type: 'COMMAND', subType: 'RESPONSE', timeStamp: epochSeconds(), payload });
  }

  private send(message: NbwssMessage): void {
    if (this.ws?.readyState !== WebSocket.OPEN) return;
    this.ws.send(JSON.stringify(message));
    if (this.sendBufferFull()) this.watchBacklog();
  }

  /**
   * Send a NOTIFICATION REQUEST (text built by the delivery side). Resolves
   * when it is written to the socket; after notification.sendTimeout
   * without that the connection is not usable and is closed (1011).
   */
  sendNotification(text: string): Promise<boolean> {
    const ws = this.ws;
    if (this.state !== 'established' || ws?.readyState !== WebSocket.OPEN) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.log.warn({ host: this.target.hostName, sendTimeoutMs: this.settings.sendTimeoutMs }, 'a notification could not be sent in time; closing');
        this.close(1011, `closed by nbwss (1011): a notification was not sent within notification.sendTimeout (${this.settings.sendTimeoutMs} ms)`);
        resolve(false);
      }, this.settings.sendTimeoutMs);
      ws.send(text, (err) => {
        clearTimeout(timer);
        resolve(!err);
      });
    });
  }

  /** Resolves once the socket is closed (at most ~2 s after close(): it is then forced down). */
  socketClosed(): Promise<void> {
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => ws.once('close', () => resolve()));
  }

  /** Close with a close code (normal unless said otherwise), once. */
  close(code = 1000, reason = 'closed by nbwss'): void {
    this.closeReason = reason;
    this.shutdown(reason, code);
  }

  private shutdown(reason: string, code: number | undefined): void {
    if (this.state === 'closed') return;
    const wasEstablished = this.state === 'established';
    this.state = 'closed';
    clearInterval(this.keepAlive);
    if (this.backlog) clearInterval(this.backlog.timer);
    this.backlog = undefined;
    this.callsController?.abort();
    this.drainCommands();
    const ws = this.ws;
    if (ws && code !== undefined && ws.readyState === WebSocket.OPEN) ws.close(code, Buffer.from(reason).subarray(0, 120).toString());
    else if (ws && ws.readyState !== WebSocket.CLOSED) ws.terminate();
    // Force the socket down if the endpoint does not finish the closing handshake.
    if (ws) setTimeout(() => ws.readyState !== WebSocket.CLOSED && ws.terminate(), 2000).unref();
    if (wasEstablished) this.emit('closed', reason);
  }
}

let sharedContext: SecureContext | undefined;
const clientContext = (): SecureContext => (sharedContext ??= createSecureContext());

function bytesOf(data: WebSocket.RawData): Buffer {
  return Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? Buffer.from(data) : data;
}

function describe(err: Error & { code?: string }): string {
  return describeSocketError(err.code) ?? (err.message || String(err));
}
