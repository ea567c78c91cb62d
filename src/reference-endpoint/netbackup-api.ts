/**
 * A stand-in of the NetBackup REST API for tests, the demo and benchmarks
 * (never used by the CLI or the daemon): https on loopback with a throwaway
 * certificate, the guide's example resource (config/servers/vmservers) kept
 * in memory, JWT-style Authorization required as NetBackup requires it, and
 * every request recorded.
 */
import { X509Certificate } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { throwawayCertificate } from './index.js';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface NetBackupApiOptions {
  host?: string;
  /** Handle a request before the stand-in does (return true when handled): slow, huge or failing answers for tests. */
  handler?: (req: IncomingMessage, res: ServerResponse, body: string) => boolean;
  tls?: { key: string; cert: string };
}

export interface NetBackupApi {
  /** https://HOST:PORT/netbackup, what api.baseUrl is set to. */
  baseUrl: string;
  port: number;
  fingerprint: string;
  certPem: string;
  requests: RecordedRequest[];
  /** Present another certificate from now on (open connections are closed). */
  setCertificate(tls: { key: string; cert: string }): void;
  close(): Promise<void>;
}

const MEDIA_TYPE = 'application/vnd.netbackup+json;version=4.0';

interface VmServer {
  serverName: string;
  vmType: string;
  userId: string;
  password: string;
  port: number;
}

export async function startNetBackupApi(o: NetBackupApiOptions = {}): Promise<NetBackupApi> {
  const host = o.host ?? '127.0.0.1';
  const tls = o.tls ?? (await throwawayCertificate(host));
  const requests: RecordedRequest[] = [];
  const vmservers = new Map<string, VmServer>();
  const send = (res: ServerResponse, code: number, body?: unknown) => {
    if (body === undefined) return void res.writeHead(code).end();
    res.writeHead(code, { 'content-type': MEDIA_TYPE, 'cache-control': 'private' }).end(JSON.stringify(body));
  };
  const error = (res: ServerResponse, code: number, errorCode: number, errorMessage: string) => send(res, code, { errorCode, errorMessage });
  const server: Server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      if (o.handler?.(req, res, body)) return;
      const url = new URL(req.url!, 'https://stand-in');
      if (!url.pathname.startsWith('/netbackup/')) return error(res, 404, 404, 'not found');
      if (!req.headers.authorization) return error(res, 401, 8000, 'Authentication failed: no Authorization header');
      const path = url.pathname.slice('/netbackup'.length);
      if (path === '/config/servers/vmservers') {
        if (req.method === 'GET') return send(res, 200, { data: [...vmservers.values()].map((v) => ({ type: 'vmServer', id: v.serverName, attributes: v })) });
        if (req.method === 'POST') {
          let v: VmServer;
          try {
            v = JSON.parse(body);
          } catch {
            return error(res, 400, 9000, 'The request body is not valid JSON');
          }
          if (typeof v.serverName !== 'string' || v.serverName === '') return error(res, 400, 9001, 'serverName is required');
          if (vmservers.has(v.serverName)) return error(res, 409, 9002, `The server ${v.serverName} already exists`);
          vmservers.set(v.serverName, v);
          return send(res, 201);
        }
        return error(res, 405, 405, 'Method not allowed');
      }
      const one = /^\/config\/servers\/vmservers\/([^/]+)$/.exec(path);
      if (one) {
        const name = decodeURIComponent(one[1]!);
        const v = vmservers.get(name);
        if (!v) return error(res, 404, 9003, `The server ${name} was not found`);
        if (req.method === 'GET')
          return send(res, 200, { vmServer: { ...v, password: '' }, links: [{ rel: 'self', href: `https://${host}/netbackup${path}` }] });
        if (req.method === 'DELETE') {
          vmservers.delete(name);
          return send(res, 204);
        }
        if (req.method === 'PUT' || req.method === 'PATCH') {
          let patch: Partial<VmServer>;
          try {
            patch = JSON.parse(body);
          } catch {
            return error(res, 400, 9000, 'The request body is not valid JSON');
          }
          vmservers.set(name, req.method === 'PUT' ? { ...(patch as VmServer), serverName: name } : { ...v, ...patch, serverName: name });
          return send(res, 204);
        }
        return error(res, 405, 405, 'Method not allowed');
      }
      return error(res, 404, 404, `No resource at ${url.pathname}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `https://${host.includes(':') ? `[${host}]` : host}:${port}/netbackup`,
    port,
    fingerprint: new X509Certificate(tls.cert).fingerprint256,
    certPem: tls.cert,
    requests,
    setCertificate: (t) => {
      // As a restarted web service would: the new certificate for every connection from now on.
      server.setSecureContext({ key: t.key, cert: t.cert });
      server.closeAllConnections();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
