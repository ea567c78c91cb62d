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
  path?: string;
  /** Answer every CONNECT with valid: false. */
  rejectToken?: boolean;
  /** Do not answer pings (to test keep-alive). */
  silentToPings?: boolean;
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
  details(extra?: { groupId?: string; priority?: number; hostName?: string }): { token: string; priority: number; groupId: string; hostName: string; url: string };
  /** Messages received, parsed. */
  received: unknown[];
  clients(): Set<WebSocket>;
  setRejectToken(v: boolean): void;
  setSilentToPings(v: boolean): void;
  close(): Promise<void>;
}

export async function throwawayCertificate(host = '127.0.0.1'): Promise<{ key: string; cert: string }> {
  const ip = /^[0-9.]+$|:/.test(host);
  const r = await generate([{ name: 'commonName', value: host }], {
    keyType: 'ec',
    curve: 'P-256',
    notAfterDate: new Date(Date.now() + 7 * 86_400_000),
    extensions: [{ name: 'subjectAltName', altNames: [ip ? { type: 7, ip: host } : { type: 2, value: host }, { type: 2, value: 'localhost' }] }],
  });
  return { key: r.private, cert: r.cert };
}

export async function startReferenceEndpoint(o: ReferenceEndpointOptions): Promise<ReferenceEndpoint> {
  const host = o.host ?? '127.0.0.1';
  const path = o.path ?? '/nbwss';
  const tls = o.tls ?? (await throwawayCertificate(host));
  let rejectToken = o.rejectToken ?? false;
  let silent = o.silentToPings ?? false;
  const received: unknown[] = [];
  const server: Server = createServer({ key: tls.key, cert: tls.cert }, (_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('This is a WebSocket endpoint: connect with wss://\n');
  });
  const wss = new WebSocketServer({ server, path, autoPong: false });
  wss.on('connection', (ws) => {
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
      if (m.type === 'CONNECT' && m.subType === 'REQUEST') {
        const valid = !rejectToken && m.payload?.token === o.token;
        ws.send(JSON.stringify({ version: '1.0', id: m.id, type: 'CONNECT', subType: 'RESPONSE', timeStamp: Math.floor(Date.now() / 1000), payload: { valid } }));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `wss://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;
  return {
    url,
    hostName: host,
    port,
    fingerprint: new X509Certificate(tls.cert).fingerprint256,
    certPem: tls.cert,
    details: (extra = {}) => ({ token: o.token, priority: extra.priority ?? 1, groupId: extra.groupId ?? 'demo-group', hostName: extra.hostName ?? host, url }),
    received,
    clients: () => wss.clients,
    setRejectToken: (v) => void (rejectToken = v),
    setSilentToPings: (v) => void (silent = v),
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
