/**
 * A reference cloud endpoint for tests and the demo (never used by the CLI or
 * the daemon): a wss server on loopback with a throwaway self-signed
 * certificate that answers NBWSS CONNECT requests by checking the token.
 */
import { randomUUID, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { WebSocketServer, type WebSocket } from 'ws';

export interface ReferenceEndpointOptions {
  host?: string;
  port?: number;
  token: string;
  /** The WebSocket path; null accepts any path (one server standing in for many endpoints). */
  path?: string | null;
  /** Answer every CONNECT with valid: false. */
  rejectToken?: boolean;
  /** Do not answer pings (to test keep-alive). */
  silentToPings?: boolean;
  /** Never answer a CONNECT REQUEST. */
  silentToConnect?: boolean;
  /** Days the throwaway certificate is valid (default 90). */
  certDays?: number;
  /** Use this certificate instead of a throwaway one. */
  tls?: { key: string; cert: string };
  /** Answer a CONNECT REQUEST only after this many ms (a cloud that checks tokens slowly). */
  connectDelayMs?: number;
  /** Acknowledge NOTIFICATION REQUESTs (default true). */
  ackNotifications?: boolean;
  /** Called with each message received, parsed (nbwss lab endpoint prints them). */
  onMessage?: (message: ReceivedMessage) => void;
}

/** A message as the endpoint received it. */
export interface ReceivedMessage {
  version?: string;
  id?: string;
  type?: string;
  subType?: string;
  timeStamp?: number;
  payload?: unknown;
}

/** One notification as delivered: the object type and its data element. */
export interface DeliveredNotification {
  messageId: string;
  object: string;
  notificationType: string;
  data: Record<string, unknown>;
}

export interface ReferenceEndpoint {
  url: string;
  hostName: string;
  port: number;
  fingerprint: string;
  certPem: string;
  /** Endpoint details as a provider would hand them over. */
  details(extra?: { groupId?: string; priority?: number; hostName?: string }): {
    token: string;
    priority: number;
    groupId: string;
    hostName: string;
    url: string;
  };
  /** Messages received, parsed. */
  received: ReceivedMessage[];
  /** Every notification data element received, in order (a resent message appears again). */
  notifications(): DeliveredNotification[];
  /** Resolves once `n` notification data elements (resends included) have been received. */
  waitForNotifications(count: number, timeoutMs?: number): Promise<DeliveredNotification[]>;
  /** Resolves with the first received message (past or future) that matches. */
  waitForMessage(match: (message: ReceivedMessage) => boolean, timeoutMs?: number): Promise<ReceivedMessage>;
  setAckNotifications(enabled: boolean): void;
  /** Pings received so far. */
  pings: number;
  /** Resolves at the next ping received. */
  waitForPing(timeoutMs?: number): Promise<void>;
  /** Send a COMMAND REQUEST to the (first) connected client and resolve with its COMMAND RESPONSE. */
  command(payload: unknown, options?: { id?: string; timeoutMs?: number; via?: WebSocket }): Promise<ReceivedMessage>;
  clients(): Set<WebSocket>;
  setRejectToken(enabled: boolean): void;
  setSilentToPings(enabled: boolean): void;
  setSilentToConnect(enabled: boolean): void;
  /** Answer CONNECT REQUESTs with this id instead of theirs (a broken cloud); undefined: their own. */
  setConnectResponseId(id: string | undefined): void;
  /** Send this text right after each CONNECT RESPONSE that accepts (a cloud that breaks the protocol at once). */
  setAfterConnect(text: string | undefined): void;
  /** Stop (or start again) reading every client's socket: a cloud that no longer reads what nbwss sends. */
  setReading(enabled: boolean): void;
  /** Present another certificate from the next handshake on. */
  setCertificate(tls: { key: string; cert: string }): void;
  /** Send raw text to every connected client (e.g. a malformed message). */
  sendToClients(text: string): void;
  /** Send bytes as a text frame, valid UTF-8 or not. */
  sendBytesToClients(bytes: Buffer): void;
  /** Close every client connection from the endpoint's side (the cloud application closing it). */
  closeClients(code?: number): void;
  /** Resolves with the close code of the n-th closed client connection (1-based), once it has closed. */
  closedCode(nth: number): Promise<number>;
  /** WebSocket connections accepted so far, and the close codes clients sent. */
  connections: number;
  /** When each connection was accepted (Date.now()), for tests of the daemon's retry spacing. */
  connectionTimes: number[];
  /** Per request path: connections open now, the most open at once, and in all (never two at once for one group). */
  byPath: Map<string, { open: number; maxOpen: number; total: number }>;
  closeCodes: number[];
  /** The close reason each closed client connection carried (same order as closeCodes). */
  closeReasons: string[];
  close(): Promise<void>;
}

/** The throwaway certificate lives this long by default: long enough that nbwss check and doctor call it OK after a demo. */
export const THROWAWAY_CERT_DAYS = 90;

export async function throwawayCertificate(host = '127.0.0.1', days = THROWAWAY_CERT_DAYS): Promise<{ key: string; cert: string }> {
  const ip = /^[0-9.]+$|:/.test(host);
  const result = await generate([{ name: 'commonName', value: host }], {
    keyType: 'ec',
    curve: 'P-256',
    notAfterDate: new Date(Date.now() + days * 86_400_000),
    extensions: [{ name: 'subjectAltName', altNames: [ip ? { type: 7, ip: host } : { type: 2, value: host }, { type: 2, value: 'localhost' }] }],
  });
  return { key: result.private, cert: result.cert };
}

export async function startReferenceEndpoint(options: ReferenceEndpointOptions): Promise<ReferenceEndpoint> {
  const host = options.host ?? '127.0.0.1';
  const path = options.path === null ? '/nbwss' : (options.path ?? '/nbwss');
  const tls = options.tls ?? (await throwawayCertificate(host, options.certDays));
  let rejectToken = options.rejectToken ?? false;
  let silent = options.silentToPings ?? false;
  let silentToConnect = options.silentToConnect ?? false;
  let connectResponseId: string | undefined;
  let afterConnect: string | undefined;
  let ack = options.ackNotifications ?? true;
  const closeWaiters: (() => void)[] = [];
  const received: ReceivedMessage[] = [];
  const messageWaiters = new Set<() => void>();
  const delivered: DeliveredNotification[] = [];
  /** COMMAND RESPONSEs awaited, by id. */
  const responders = new Map<string, (message: ReceivedMessage) => void>();
  const waitUntil = <T>(ready: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const now = ready();
      if (now !== undefined) return resolve(now);
      const check = () => {
        const value = ready();
        if (value === undefined) return;
        messageWaiters.delete(check);
        clearTimeout(timer);
        resolve(value);
      };
      const timer = setTimeout(() => {
        messageWaiters.delete(check);
        reject(new Error(`reference endpoint: ${what} not received within ${timeoutMs} ms`));
      }, timeoutMs);
      messageWaiters.add(check);
    });
  const server: Server = createServer({ key: tls.key, cert: tls.cert }, (_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('This is a WebSocket endpoint: connect with wss://\n');
  });
  const wss = new WebSocketServer({ server, ...(options.path === null ? {} : { path }), autoPong: false });
  wss.on('connection', (ws, req) => {
    result.connections++;
    result.connectionTimes.push(Date.now());
    // Per path (one server standing in for many endpoints, path: null): how many are open, at most and in all.
    const at = (req.url ?? '/').replace(/\?.*$/, '');
    const stat = result.byPath.get(at) ?? { open: 0, maxOpen: 0, total: 0 };
    stat.open++;
    stat.total++;
    stat.maxOpen = Math.max(stat.maxOpen, stat.open);
    result.byPath.set(at, stat);
    ws.on('close', (code, reason) => {
      stat.open--;
      result.closeCodes.push(code);
      result.closeReasons.push(reason.toString());
      for (const w of closeWaiters.splice(0)) w();
    });
    ws.on('ping', (data) => {
      result.pings++;
      for (const w of [...messageWaiters]) w();
      if (!silent) ws.pong(data);
    });
    ws.on('message', (raw) => {
      let message: ReceivedMessage;
      try {
        message = JSON.parse(String(raw));
      } catch {
        return;
      }
      received.push(message);
      options.onMessage?.(message);
      if (message.type === 'COMMAND' && message.subType === 'RESPONSE' && typeof message.id === 'string') responders.get(message.id)?.(message);
      if (message.type === 'CONNECT' && message.subType === 'REQUEST' && !silentToConnect) {
        const valid = !rejectToken && (message.payload as { token?: string } | undefined)?.token === options.token;
        const answer = JSON.stringify({
          version: '1.0',
          id: connectResponseId ?? message.id,
          type: 'CONNECT',
          subType: 'RESPONSE',
          timeStamp: Math.floor(Date.now() / 1000),
          payload: { valid },
        });
        if (options.connectDelayMs) setTimeout(() => ws.send(answer), options.connectDelayMs);
        else ws.send(answer);
        if (afterConnect !== undefined && valid) ws.send(afterConnect);
      }
      if (message.type === 'NOTIFICATION' && message.subType === 'REQUEST' && Array.isArray(message.payload)) {
        for (const e of message.payload as { notificationType: string; object: string; data: Record<string, unknown>[] }[])
          for (const d of e.data ?? []) delivered.push({ messageId: message.id!, object: e.object, notificationType: e.notificationType, data: d });
        // The guide's NOTIFICATION RESPONSE: the same id, an empty payload.
        if (ack)
          ws.send(
            JSON.stringify({
              version: '1.0',
              id: message.id,
              type: 'NOTIFICATION',
              subType: 'RESPONSE',
              timeStamp: Math.floor(Date.now() / 1000),
              payload: [],
            }),
          );
      }
      for (const w of [...messageWaiters]) w();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `wss://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;
  const result: ReferenceEndpoint = {
    url,
    hostName: host,
    port,
    fingerprint: new X509Certificate(tls.cert).fingerprint256,
    certPem: tls.cert,
    details: (extra = {}) => ({
      token: options.token,
      priority: extra.priority ?? 1,
      groupId: extra.groupId ?? 'demo-group',
      hostName: extra.hostName ?? host,
      url,
    }),
    received,
    notifications: () => delivered,
    waitForNotifications: (n, timeoutMs = 10_000) => waitUntil(() => (delivered.length >= n ? delivered : undefined), timeoutMs, `${n} notifications`),
    waitForMessage: (match, timeoutMs = 10_000) => waitUntil(() => received.find(match), timeoutMs, 'a matching message'),
    pings: 0,
    waitForPing: (timeoutMs = 10_000) => {
      const seen = result.pings;
      return waitUntil(() => (result.pings > seen ? true : undefined), timeoutMs, 'a ping').then(() => undefined);
    },
    setAckNotifications: (v) => {
      ack = v;
    },
    command: (payload, how = {}) => {
      const client = how.via ?? [...wss.clients][0];
      if (!client) return Promise.reject(new Error('reference endpoint: no client connected'));
      const id = how.id ?? randomUUID().toUpperCase();
      client.send(JSON.stringify({ version: '1.0', id, type: 'COMMAND', subType: 'REQUEST', timeStamp: Math.floor(Date.now() / 1000), payload }));
      return waitUntil(
        () => received.find((m) => m.type === 'COMMAND' && m.subType === 'RESPONSE' && m.id === id),
        how.timeoutMs ?? 10_000,
        `the COMMAND RESPONSE ${id}`,
      );
    },
    clients: () => wss.clients,
    setRejectToken: (v) => {
      rejectToken = v;
    },
    setSilentToPings: (v) => {
      silent = v;
    },
    setSilentToConnect: (v) => {
      silentToConnect = v;
    },
    setConnectResponseId: (id) => {
      connectResponseId = id;
    },
    setAfterConnect: (text) => {
      afterConnect = text;
    },
    setReading: (enabled) => {
      for (const c of wss.clients) {
        if (enabled) c.resume();
        else c.pause();
      }
    },
    setCertificate: (t) => server.setSecureContext({ key: t.key, cert: t.cert }),
    sendToClients: (text) => {
      for (const c of wss.clients) c.send(text);
    },
    sendBytesToClients: (bytes) => {
      for (const c of wss.clients) c.send(bytes, { binary: false });
    },
    closeClients: (code = 1000) => {
      for (const c of wss.clients) c.close(code, 'closed by the cloud application');
    },
    connections: 0,
    connectionTimes: [],
    byPath: new Map(),
    closeCodes: [],
    closeReasons: [],
    closedCode: async (nth) => {
      while (result.closeCodes.length < nth) await new Promise<void>((r) => closeWaiters.push(r));
      return result.closeCodes[nth - 1]!;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return result;
}
