/**
 * A reference cloud endpoint for tests and the demo (never used by the CLI or
 * the daemon): a wss server on loopback with a throwaway self-signed
 * certificate that answers NBWSS CONNECT requests by checking the token.
 */
import { X509Certificate } from 'node:crypto';
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
  received: unknown[];
  clients(): Set<WebSocket>;
  setRejectToken(v: boolean): void;
  setSilentToPings(v: boolean): void;
  setSilentToConnect(v: boolean): void;
  /** Present another certificate from the next handshake on. */
  setCertificate(tls: { key: string; cert: string }): void;
  /** Send raw text to every connected client (e.g. a malformed message). */
  sendToClients(text: string): void;
  /** Close every client connection from the endpoint's side (the cloud application closing it). */
  closeClients(code?: number): void;
  /** Resolves with the close code of the n-th closed client connection (1-based), once it has closed. */
  closedCode(n: number): Promise<number>;
  /** WebSocket connections accepted so far, and the close codes clients sent. */
  connections: number;
  /** When each connection was accepted (Date.now()), for tests of the daemon's retry spacing. */
  connectionTimes: number[];
  closeCodes: number[];
  close(): Promise<void>;
}

/** The throwaway certificate lives this long by default: long enough that nbwss check and doctor call it OK after a demo. */
export const THROWAWAY_CERT_DAYS = 90;

export async function throwawayCertificate(host = '127.0.0.1', days = THROWAWAY_CERT_DAYS): Promise<{ key: string; cert: string }> {
  const ip = /^[0-9.]+$|:/.test(host);
  const r = await generate([{ name: 'commonName', value: host }], {
    keyType: 'ec',
    curve: 'P-256',
    notAfterDate: new Date(Date.now() + days * 86_400_000),
    extensions: [{ name: 'subjectAltName', altNames: [ip ? { type: 7, ip: host } : { type: 2, value: host }, { type: 2, value: 'localhost' }] }],
  });
  return { key: r.private, cert: r.cert };
}

export async function startReferenceEndpoint(o: ReferenceEndpointOptions): Promise<ReferenceEndpoint> {
  const host = o.host ?? '127.0.0.1';
  const path = o.path === null ? '/nbwss' : (o.path ?? '/nbwss');
  const tls = o.tls ?? (await throwawayCertificate(host, o.certDays));
  let rejectToken = o.rejectToken ?? false;
  let silent = o.silentToPings ?? false;
  let silentToConnect = o.silentToConnect ?? false;
  const closeWaiters: (() => void)[] = [];
  const received: unknown[] = [];
  const server: Server = createServer({ key: tls.key, cert: tls.cert }, (_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('This is a WebSocket endpoint: connect with wss://\n');
  });
  const wss = new WebSocketServer({ server, ...(o.path === null ? {} : { path }), autoPong: false });
  wss.on('connection', (ws) => {
    result.connections++;
    result.connectionTimes.push(Date.now());
    ws.on('close', (code) => {
      result.closeCodes.push(code);
      for (const w of closeWaiters.splice(0)) w();
    });
    ws.on('ping', (data) => {
      if (!silent) ws.pong(data);
    });
    ws.on('message', (raw) => {
      let m: { id?: string; type?: string; subType?: string; payload?: { token?: string } };
      try {
        m = JSON.parse(String(raw));
      } catch {
        return;
      }
      received.push(m);
      if (m.type === 'CONNECT' && m.subType === 'REQUEST' && !silentToConnect) {
        const valid = !rejectToken && m.payload?.token === o.token;
        ws.send(
          JSON.stringify({ version: '1.0', id: m.id, type: 'CONNECT', subType: 'RESPONSE', timeStamp: Math.floor(Date.now() / 1000), payload: { valid } }),
        );
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `wss://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;
  const result: ReferenceEndpoint = {
    url,
    hostName: host,
    port,
    fingerprint: new X509Certificate(tls.cert).fingerprint256,
    certPem: tls.cert,
    details: (extra = {}) => ({ token: o.token, priority: extra.priority ?? 1, groupId: extra.groupId ?? 'demo-group', hostName: extra.hostName ?? host, url }),
    received,
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
    setCertificate: (t) => server.setSecureContext({ key: t.key, cert: t.cert }),
    sendToClients: (text) => {
      for (const c of wss.clients) c.send(text);
    },
    closeClients: (code = 1000) => {
      for (const c of wss.clients) c.close(code, 'closed by the cloud application');
    },
    connections: 0,
    connectionTimes: [],
    closeCodes: [],
    closedCode: async (n) => {
      while (result.closeCodes.length < n) await new Promise<void>((r) => closeWaiters.push(r));
      return result.closeCodes[n - 1]!;
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
