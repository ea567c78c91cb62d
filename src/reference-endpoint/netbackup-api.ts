/**
 * A stand-in of a NetBackup primary's REST API for tests, the demo and
 * benchmarks (never used by the CLI or the daemon): https on loopback with a
 * throwaway certificate, NetBackup's media type and JSON:API shapes, and
 * every request recorded. It serves what nbwss uses:
 * - POST /netbackup/login (user name and password → a JWT with a validity),
 *   and API keys (`Authorization: <key>`); with `auth` set only those are
 *   accepted, without it any Authorization is (the COMMAND tests' case);
 * - GET /netbackup/admin/jobs[/{id}] and GET /netbackup/catalog/images[/{id}]
 *   with filter, sort and paging (query.ts), from jobs and images a test or
 *   the scenario driver (scenario.ts) sets;
 * - the guide's COMMAND example resource, config/servers/vmservers.
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { throwawayCertificate } from './index.js';
import { QueryError, query } from './query.js';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface NetBackupApiOptions {
  host?: string;
  /** Listen on this port (default: any free one). */
  port?: number;
  /** Handle a request before the stand-in does (return true when handled): slow, huge or failing answers for tests. */
  handler?: (req: IncomingMessage, res: ServerResponse, body: string) => boolean;
  tls?: { key: string; cert: string };
  /** Accept only these credentials (else any Authorization header will do). */
  auth?: { apiKeys?: string[]; users?: { userName: string; password: string; domainName?: string; domainType?: string }[]; tokenValiditySeconds?: number };
}

/** A job as GET /admin/jobs returns its attributes (times in ISO 8601, as NetBackup gives them). */
export interface JobAttributes {
  jobId: number;
  parentJobId: number;
  jobType: string;
  jobSubType?: string;
  policyType: string;
  policyName: string;
  scheduleType: string;
  scheduleName: string;
  clientName: string;
  state: string;
  status: number;
  startTime: string;
  endTime?: string;
  lastUpdateTime: string;
  kilobytesTransferred: number;
  percentComplete: number;
  [k: string]: unknown;
}

/** An image as GET /catalog/images returns its attributes. */
export interface ImageAttributes {
  backupId: string;
  clientName: string;
  policyName: string;
  policyType: string;
  scheduleType: string;
  backupTime: string;
  expiration: string;
  kilobytes: number;
  copyCount: number;
  [k: string]: unknown;
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
  /** Create or change a job; lastUpdateTime is set to now (whole seconds, as NetBackup's) unless given. */
  setJob(job: Partial<JobAttributes> & { jobId: number }): JobAttributes;
  job(id: number): JobAttributes | undefined;
  /** Create or change an image. */
  setImage(image: ImageAttributes): void;
  deleteImage(backupId: string): boolean;
  /** Forget every token handed out (as a restarted web service does): the next call with one is answered 401. */
  forgetTokens(): void;
  /** Stop accepting an API key (as deleting it on the primary does). */
  revokeApiKey(key: string): void;
  /** Tokens handed out by POST /login so far. */
  readonly logins: number;
  close(): Promise<void>;
}

const MEDIA_TYPE = 'application/vnd.netbackup+json;version=4.0';

const JOB_FIELDS = [
  'jobId',
  'parentJobId',
  'jobType',
  'jobSubType',
  'policyType',
  'policyName',
  'scheduleType',
  'scheduleName',
  'clientName',
  'state',
  'status',
  'startTime',
  'endTime',
  'lastUpdateTime',
  'kilobytesTransferred',
  'percentComplete',
] as const;
const IMAGE_FIELDS = ['backupId', 'clientName', 'policyName', 'policyType', 'scheduleType', 'backupTime', 'expiration', 'kilobytes', 'copyCount'] as const;
/** NetBackup's times: ISO 8601 in whole seconds. */
const isoNow = () => new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();

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
  const jobs = new Map<number, JobAttributes>();
  const images = new Map<string, ImageAttributes>();
  const apiKeys = new Set(o.auth?.apiKeys ?? []);
  const tokens = new Map<string, number>();
  let logins = 0;
  const authorized = (h: string) => {
    const v = h.replace(/^Bearer\s+/i, '');
    if (apiKeys.has(v)) return true;
    const until = tokens.get(v);
    return until !== undefined && Date.now() < until;
  };
  const login = (req: IncomingMessage, res: ServerResponse, body: string) => {
    if (req.method !== 'POST') return error(res, 405, 405, 'Method not allowed');
    if (!/application\/vnd\.netbackup\+json/.test(req.headers['content-type'] ?? '')) return error(res, 415, 415, `Unsupported media type: send ${MEDIA_TYPE}`);
    let b: { userName?: unknown; password?: unknown; domainName?: unknown; domainType?: unknown };
    try {
      b = JSON.parse(body);
    } catch {
      return error(res, 400, 9000, 'The request body is not valid JSON');
    }
    const user = (o.auth?.users ?? []).find(
      (u) =>
        u.userName === b.userName &&
        u.password === b.password &&
        (u.domainName ?? '') === (b.domainName ?? '') &&
        (u.domainType ?? '') === (b.domainType ?? ''),
    );
    if (!user) return error(res, 401, 8000, 'Authentication failed: wrong user name or password');
    const validity = o.auth?.tokenValiditySeconds ?? 86_400;
    const token = `eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.${randomBytes(24).toString('base64url')}`;
    tokens.set(token, Date.now() + validity * 1000);
    logins++;
    return send(res, 201, { token, tokenType: 'BEARER', validity });
  };
  const collection = (res: ServerResponse, url: URL, type: string, idField: string, all: Record<string, unknown>[], fields: readonly string[]) => {
    const p = query(all, url, fields);
    return send(res, 200, {
      data: p.items.map((a) => ({
        type,
        id: String(a[idField]),
        attributes: a,
        links: { self: { href: `${url.pathname}/${encodeURIComponent(String(a[idField]))}` } },
      })),
      meta: p.meta,
      links: p.links,
    });
  };
  const server: Server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      if (o.handler?.(req, res, body)) return;
      const url = new URL(req.url!, 'https://stand-in');
      if (!url.pathname.startsWith('/netbackup/')) return error(res, 404, 404, 'not found');
      const path = url.pathname.slice('/netbackup'.length);
      if (path === '/login') return login(req, res, body);
      if (!req.headers.authorization) return error(res, 401, 8000, 'Authentication failed: no Authorization header');
      if (o.auth && !authorized(req.headers.authorization)) return error(res, 401, 8000, 'Authentication failed: the token or API key is not valid');
      if (path === '/admin/jobs' || path.startsWith('/admin/jobs/') || path === '/catalog/images' || path.startsWith('/catalog/images/')) {
        if (req.method !== 'GET') return error(res, 405, 405, 'Method not allowed');
        if (!/application\/vnd\.netbackup\+json/.test(`${req.headers.accept ?? ''} ${req.headers['content-type'] ?? ''}`))
          return error(res, 406, 406, `Not acceptable: ask for ${MEDIA_TYPE}`);
        try {
          if (path === '/admin/jobs') return collection(res, url, 'job', 'jobId', [...jobs.values()], JOB_FIELDS);
          if (path === '/catalog/images') return collection(res, url, 'image', 'backupId', [...images.values()], IMAGE_FIELDS);
        } catch (e) {
          if (e instanceof QueryError) return error(res, 400, 9100, e.message);
          throw e;
        }
        const id = decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
        const item = path.startsWith('/admin/jobs/') ? jobs.get(Number(id)) : images.get(id);
        if (!item) return error(res, 404, 9004, `No ${path.startsWith('/admin') ? 'job' : 'image'} ${id}`);
        return send(res, 200, { data: { type: path.startsWith('/admin') ? 'job' : 'image', id, attributes: item, links: { self: { href: url.pathname } } } });
      }
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
    server.listen(o.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `https://${host.includes(':') ? `[${host}]` : host}:${port}/netbackup`,
    port,
    fingerprint: new X509Certificate(tls.cert).fingerprint256,
    certPem: tls.cert,
    requests,
    setJob: (j) => {
      const before = jobs.get(j.jobId);
      // lastUpdateTime: now, in whole seconds as NetBackup's (a test may name the second).
      const job: JobAttributes = {
        kilobytesTransferred: 0,
        percentComplete: 0,
        ...before,
        ...j,
        lastUpdateTime: j.lastUpdateTime ?? isoNow(),
      } as JobAttributes;
      jobs.set(j.jobId, job);
      return job;
    },
    job: (id) => jobs.get(id),
    setImage: (i) => void images.set(i.backupId, { ...i }),
    deleteImage: (id) => images.delete(id),
    revokeApiKey: (k) => void apiKeys.delete(k),
    forgetTokens: () => tokens.clear(),
    get logins() {
      return logins;
    },
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
