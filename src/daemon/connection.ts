import { W } from '../core/hints.js';
import { EventEmitter } from 'node:events';
import type { ClientRequest } from 'node:http';
import type { TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import { connectRequest, decodeMessage, epochSeconds, type NbwssMessage } from '../core/nbwss-message.js';
import type { PinType } from '../core/store/db.js';
import { derMatchesPin } from '../core/tls/fingerprint.js';
import { safeText } from '../core/text.js';
import { describeSocketError } from '../core/net-errors.js';

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
  /** notification.sendTimeout: how long to wait for the CONNECT RESPONSE. */
  sendTimeoutMs: number;
  /** keepAlive.scheduledRate in ms. */
  keepAliveMs: number;
  /** keepAlive.maxPongMissAllowed */
  maxPongMiss: number;
  /** exception.ignoreDecoder */
  ignoreDecoder: boolean;
  /** Bound on TCP + TLS + the HTTP upgrade. */
  connectTimeoutMs: number;
}

export interface Logger {
  info(o: object, msg: string): void;
  warn(o: object, msg: string): void;
  error(o: object, msg: string): void;
  debug(o: object, msg: string): void;
}

/** The largest NBWSS message the daemon accepts (1 MiB); beyond it the connection is closed with 1009. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

function daemonSideReason(e: Error & { code?: string }): string {
  if (e.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') return `closed by nbwss (1009): a message larger than ${MAX_MESSAGE_BYTES} bytes`;
  if (e.code === 'WS_ERR_INVALID_UTF8') return 'closed by nbwss (1007): a message that is not valid UTF-8';
  return `closed by nbwss: ${safeText(e.message)}`;
}

export class ConnectError extends Error {
  override readonly name = 'ConnectError';
}

/**
 * One connection to one endpoint: wss with exactly the pinned certificate
 * (or public key) trusted — checked after the TLS handshake and before a
 * single HTTP byte is sent — then CONNECT REQUEST / RESPONSE, then pings.
 * Emits 'closed' (reason) once, whatever ends it.
 */
export class EndpointConnection extends EventEmitter {
  state: 'connecting' | 'established' | 'closed' = 'connecting';
  since = new Date();
  private ws: WebSocket | undefined;
  private keepAlive: NodeJS.Timeout | undefined;
  private missed = 0;
  private awaitingPong = false;
  private closeReason: string | undefined;

  constructor(
    readonly target: ConnectTarget,
    private readonly settings: ConnectionSettings,
    private readonly log: Logger,
  ) {
    super();
  }

  /** Resolves once the endpoint accepted the token; rejects with why not. */
  connect(): Promise<void> {
    const t = this.target;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (reason: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(responseTimer);
        this.shutdown(reason, 1000);
        reject(new ConnectError(reason));
      };
      let responseTimer: NodeJS.Timeout | undefined;
      let pinError: string | undefined;
      const ws = new WebSocket(t.url, {
        rejectUnauthorized: false, // the pin decides, not the CA chain
        handshakeTimeout: this.settings.connectTimeoutMs,
        perMessageDeflate: false,
        // NBWSS messages are small: a larger one is refused with close code 1009, never buffered.
        maxPayload: MAX_MESSAGE_BYTES,
        finishRequest: (req: ClientRequest) => {
          // Send the upgrade request only once the certificate matches the pin.
          req.on('socket', (socket) => {
            const tls = socket as TLSSocket;
            const check = () => {
              const raw = tls.getPeerCertificate()?.raw;
              if (raw && derMatchesPin(t, raw)) return void req.end();
              pinError = `certificate does not match the pin (${t.pinType === 'spki' ? 'public key' : 'certificate'} SHA-256 ${t.pinType === 'spki' ? t.spkiFingerprint : t.fingerprint}); run ${W.check} ${t.hostName}`;
              req.destroy(new Error(pinError));
            };
            if (tls.encrypted && !tls.connecting && tls.getPeerCertificate()?.raw) check();
            else tls.once('secureConnect', check);
          });
        },
      });
      this.ws = ws;
      ws.on('error', (e: Error & { code?: string }) => {
        // After the handshake ws reports what it refused itself (too large, invalid UTF-8) and closes:
        // a daemon-side close, never blamed on the endpoint.
        if (settled) {
          this.closeReason ??= daemonSideReason(e);
          return;
        }
        fail(pinError ?? safeText(describe(e)));
      });
      ws.on('unexpected-response', (_req, res) => fail(`the endpoint answered HTTP ${res.statusCode} instead of a WebSocket upgrade`));
      ws.on('close', (code, why) => {
        // The endpoint's close reason is text from outside: escaped before it is logged, stored or shown.
        const said = why.length ? ` ${safeText(why.toString())}` : '';
        if (!settled) return fail(pinError ?? `closed during the handshake (${code}${said})`);
        this.shutdown(this.closeReason ?? `closed by the endpoint (${code}${said})`, undefined);
      });
      ws.on('open', () => {
        const req = connectRequest(t.token);
        responseTimer = setTimeout(() => fail('no CONNECT RESPONSE'), this.settings.sendTimeoutMs);
        ws.send(JSON.stringify(req));
        const onMessage = (data: WebSocket.RawData, isBinary: boolean) => {
          const d = decodeMessage(isBinary ? '' : data.toString());
          if (!d.ok) {
            if (this.settings.ignoreDecoder)
              return this.log.warn(
                { host: t.hostName, reason: safeText(d.reason) },
                'ignoring a message that is not a valid NBWSS message (exception.ignoreDecoder=true)',
              );
            return fail(`decoder error during CONNECT: ${safeText(d.reason)}`);
          }
          const m = d.message;
          if (m.type !== 'CONNECT' || m.subType !== 'RESPONSE' || m.id !== req.id)
            return this.log.debug({ host: t.hostName, type: m.type, subType: m.subType }, 'message before the CONNECT RESPONSE ignored');
          clearTimeout(responseTimer);
          if ((m.payload as { valid?: unknown }).valid !== true) return fail('token rejected');
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

  private startKeepAlive(): void {
    const ws = this.ws!;
    ws.on('pong', () => {
      this.awaitingPong = false;
      this.missed = 0;
    });
    this.keepAlive = setInterval(() => {
      if (this.awaitingPong) {
        this.missed++;
        if (this.missed > this.settings.maxPongMiss) {
          this.log.warn({ host: this.target.hostName, missed: this.missed }, 'pongs missed; closing');
          this.closeReason = `${this.missed} pongs missed in a row`;
          ws.terminate();
          return;
        }
      }
      this.awaitingPong = true;
      ws.ping();
    }, this.settings.keepAliveMs);
  }

  private onMessage(raw: WebSocket.RawData, isBinary: boolean): void {
    const d = decodeMessage(isBinary ? '' : raw.toString());
    if (!d.ok) {
      if (this.settings.ignoreDecoder) {
        this.log.warn(
          { host: this.target.hostName, reason: safeText(d.reason) },
          'ignoring a message that is not a valid NBWSS message (exception.ignoreDecoder=true)',
        );
        return;
      }
      this.log.warn({ host: this.target.hostName, reason: safeText(d.reason) }, 'closing: a message that is not a valid NBWSS message');
      this.close(1007, `decoder error: ${safeText(d.reason)}`);
      return;
    }
    this.handle(d.message);
  }

  private handle(m: NbwssMessage): void {
    if (m.type === 'COMMAND' && m.subType === 'REQUEST') {
      // The REST proxy comes with the daemon's second part: answer, so the application is not left waiting.
      this.send({
        version: '1.0',
        id: m.id,
        type: 'COMMAND',
        subType: 'RESPONSE',
        timeStamp: epochSeconds(),
        payload: {
          headers: { 'content-type': 'application/json' },
          responseCode: 501,
          body: JSON.stringify({ errorMessage: 'REST API calls over NBWSS are not available in this version of nbwss' }),
        },
      });
      this.log.info({ host: this.target.hostName, id: m.id }, 'COMMAND REQUEST answered 501 (REST proxy not available yet)');
      return;
    }
    // NOTIFICATION RESPONSEs acknowledge notifications (the daemon's second part sends them); anything else is not for us.
    this.log.debug({ host: this.target.hostName, type: m.type, subType: m.subType }, 'message ignored');
  }

  private send(m: NbwssMessage): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(m));
  }

  /** Close with a normal close code (or another), once. */
  close(code = 1000, reason = 'closed by nbwss'): void {
    this.closeReason = reason;
    this.shutdown(reason, code);
  }

  private shutdown(reason: string, code: number | undefined): void {
    if (this.state === 'closed') return;
    const wasEstablished = this.state === 'established';
    this.state = 'closed';
    clearInterval(this.keepAlive);
    const ws = this.ws;
    if (ws && code !== undefined && ws.readyState === WebSocket.OPEN) ws.close(code, reason.slice(0, 120));
    else if (ws && ws.readyState !== WebSocket.CLOSED) ws.terminate();
    // Force the socket down if the endpoint does not finish the closing handshake.
    if (ws) setTimeout(() => ws.readyState !== WebSocket.CLOSED && ws.terminate(), 2000).unref();
    if (wasEstablished) this.emit('closed', reason);
  }
}

function describe(e: Error & { code?: string }): string {
  return describeSocketError(e.code) ?? (e.message || String(e));
}
