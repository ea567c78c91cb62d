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
 *
 * It imitates a release (`release`, default 11.0), on this evidence:
 * - the API versions served: each release's OpenAPI bundle declares one
 *   media type (10.3 → 10.0, 10.5 → 12.0, 11.0 → 13.0, 11.2 → 14.0;
 *   fjacquet/nbu_exporter docs/veritas-*, ADR-0003); which older versions a
 *   release still serves is not documented, so each imitation serves its own
 *   and the one before. Another version is answered 406 with NetBackup's
 *   error body (errorCode, errorMessage, errorDetails: the admin.yaml 406
 *   schema), the details naming the versions served as the issue's two
 *   clients report (`namesVersionsIn406: false` leaves them out);
 * - a request without a version (plain JSON, as Veritas's Ansible roles for
 *   10.5–11.1 send) is answered in the newest version served, and every
 *   answer's Content-Type names its version; 8.3 requires its media type;
 * - GET /admin/jobs pages by an opaque string cursor from API 9.0 on
 *   (`page[after]`, `meta.pagination.next`, empty on the last page;
 *   `page[offset]` ignored), by offset before; /catalog/images by offset;
 * - a JWT is taken bare (the getting-started guide) and, from 10.5 on, as
 *   `Bearer <jwt>` too (Veritas's Ansible roles); API keys bare;
 * - jobs carry every attribute of admin.yaml 11.2 (77), filled with neutral
 *   values where a test does not set them; schedule types as the API says
 *   them (FULL_BACKUP for jobs, FULL for images).
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
  /** The release imitated (default 11.0), or its parts. */
  release?: ReleaseName | Partial<PrimaryRelease>;
  /** A 406 names the versions served in errorDetails (default true). */
  namesVersionsIn406?: boolean;
  /** Answer collections with every matching item from the page's start on, whatever page[limit] asked (a broken primary); 'once': the first listing that has more items than asked only. */
  ignorePageLimit?: boolean | 'once';
  /** Jobs carry every attribute of admin.yaml 11.2 (default true); false: the 16 nbwss reads, for tests that need small pages. */
  fullAttributes?: boolean;
  /** links.next leads to this origin instead (a hostile or misconfigured primary). */
  nextLinkOrigin?: string;
}

export interface PrimaryRelease {
  /** The API versions served, oldest first. */
  versions: string[];
  /**
   * How GET /admin/jobs pages. 'links' (by cursor, said in links.next only) is no release's documented behaviour:
   * it stands for a primary or proxy that pages by link alone, which issue 19 asks nbwss to follow.
   */
  jobsPaging: 'cursor' | 'offset' | 'links';
  /** `Bearer <jwt>` is accepted besides the bare JWT. */
  bearer: boolean;
  /** A request without a version is answered (in the newest served). */
  unversioned: boolean;
}

export const RELEASES = {
  '8.3': { versions: ['3.0', '4.0'], jobsPaging: 'offset', bearer: false, unversioned: false },
  '10.5': { versions: ['11.0', '12.0'], jobsPaging: 'cursor', bearer: true, unversioned: true },
  '11.0': { versions: ['12.0', '13.0'], jobsPaging: 'cursor', bearer: true, unversioned: true },
  '11.2': { versions: ['13.0', '14.0'], jobsPaging: 'cursor', bearer: true, unversioned: true },
} as const satisfies Record<string, PrimaryRelease>;
export type ReleaseName = keyof typeof RELEASES;

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
  [key: string]: unknown;
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
  [key: string]: unknown;
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
  /** The release imitated now. */
  readonly release: PrimaryRelease;
  /** Imitate another release from now on (an upgrade under a running daemon). */
  setRelease(release: ReleaseName | Partial<PrimaryRelease>): void;
  /** Create or change many jobs at once (no copy of the others). */
  setJobs(jobs: (Partial<JobAttributes> & { jobId: number })[]): void;
  close(): Promise<void>;
}

const mediaType = (v: string) => `application/vnd.netbackup+json;version=${v}`;
const versionIn = (h: string | undefined) => /application\/vnd\.netbackup\+json\s*;\s*version\s*=\s*([0-9.]+)/i.exec(h ?? '')?.[1];

/** Every attribute of a job in admin.yaml (NetBackup 11.2), with the neutral value the stand-in gives one a test does not set. */
const JOB_DEFAULTS: Record<string, unknown> = {
  jobId: 0,
  parentJobId: 0,
  jobType: 'BACKUP',
  jobSubType: 'SCHEDULED',
  policyType: 'STANDARD',
  policyName: '',
  scheduleType: 'FULL_BACKUP',
  scheduleName: '',
  clientName: '',
  controlHost: '',
  jobOwner: 'root',
  jobGroup: '',
  backupId: '',
  sourceMediaId: '',
  sourceStorageUnitName: '',
  sourceMediaServerName: '',
  destinationMediaId: '',
  destinationStorageUnitName: '',
  destinationMediaServerName: '',
  dataMovement: 'STANDARD',
  streamNumber: 0,
  copyNumber: 0,
  priority: 0,
  compression: 0,
  status: 0,
  state: 'QUEUED',
  numberOfFiles: 0,
  estimatedFiles: 0,
  kilobytesTransferred: 0,
  kilobytesToTransfer: 0,
  kilobytesDataTransferred: 0,
  transferRate: 0,
  percentComplete: 0,
  restartable: 0,
  suspendable: 0,
  resumable: 0,
  cancellable: 1,
  frozenImage: 0,
  transportType: 'LAN',
  dedupRatio: 0,
  dedupSpaceRatio: 0,
  compressionSpaceRatio: 0,
  acceleratorOptimization: 0,
  instanceDatabaseName: '',
  offHostType: 'STANDARD',
  jobQueueResource: '',
  jobQueueReason: 0,
  profileName: '',
  robotName: '',
  vaultName: '',
  sessionId: 0,
  numberOfTapeToEject: 0,
  submissionType: 0,
  dumpHost: '',
  activeProcessId: 0,
  mainProcessId: 0,
  auditUserName: '',
  auditDomainName: '',
  auditDomainType: 0,
  restoreBackupIDs: '',
  assetID: '',
  assetDisplayableName: '',
  workloadDisplayName: '',
  applicationType: 'NONE',
  dteMode: 'UNKNOWN',
  jobPath: '',
  childCount: 0,
  currentFile: '',
  currentOperation: 0,
  retentionLevel: 0,
  try: 1,
  startTime: '',
  endTime: '1970-01-01T00:00:00.000Z',
  activeTryStartTime: '',
  lastUpdateTime: '',
  elapsedTime: 'PT0S',
  activeElapsedTime: 'PT0S',
};
export const JOB_ATTRIBUTE_NAMES = Object.keys(JOB_DEFAULTS);
const MINIMAL_JOB = { kilobytesTransferred: 0, percentComplete: 0 };
const JOB_FIELDS = JOB_ATTRIBUTE_NAMES;
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

function releaseOf(release: ReleaseName | Partial<PrimaryRelease>): PrimaryRelease {
  return typeof release === 'string'
    ? { ...RELEASES[release], versions: [...RELEASES[release].versions] }
    : { ...RELEASES['11.0'], versions: [...RELEASES['11.0'].versions], ...release };
}

/** A collection's items as one array until one changes (query.ts keeps its selections per array). */
function keptValues<K, V>(map: Map<K, V>) {
  let list: V[] | undefined;
  return {
    values(): V[] {
      list ??= [...map.values()];
      return list;
    },
    /** Called after a change; passes the change's own result through. */
    changed<T>(result: T): T {
      list = undefined;
      return result;
    },
  };
}

export async function startNetBackupApi(options: NetBackupApiOptions = {}): Promise<NetBackupApi> {
  const host = options.host ?? '127.0.0.1';
  const tls = options.tls ?? (await throwawayCertificate(host));
  const requests: RecordedRequest[] = [];
  const vmservers = new Map<string, VmServer>();
  let release: PrimaryRelease = releaseOf(options.release ?? '11.0');
  const newest = () => release.versions[release.versions.length - 1]!;
  /** The version a request is answered in, or a 406/415 already sent. */
  let answering = '';
  const send = (res: ServerResponse, code: number, body?: unknown) => {
    if (body === undefined) return void res.writeHead(code).end();
    res.writeHead(code, { 'content-type': mediaType(answering || newest()), 'cache-control': 'private' }).end(JSON.stringify(body));
  };
  const error = (res: ServerResponse, code: number, errorCode: number, errorMessage: string) => send(res, code, { errorCode, errorMessage });
  const jobs = new Map<number, JobAttributes>();
  let oversizedOnce = false;
  const images = new Map<string, ImageAttributes>();
  const jobList = keptValues(jobs);
  const imageList = keptValues(images);
  const apiKeys = new Set(options.auth?.apiKeys ?? []);
  const tokens = new Map<string, number>();
  let logins = 0;
  const authorized = (authorization: string) => {
    if (apiKeys.has(authorization)) return true;
    const bearer = /^Bearer\s+(.+)$/i.exec(authorization);
    if (bearer && !release.bearer) return false;
    const until = tokens.get(bearer ? bearer[1]! : authorization);
    return until !== undefined && Date.now() < until;
  };
  /** Negotiate as the release does: false when a 406 (or 415) was sent. */
  const negotiate = (req: IncomingMessage, res: ServerResponse, login: boolean): boolean => {
    const asked = versionIn(req.headers.accept) ?? versionIn(req.headers['content-type']);
    answering = newest();
    if (asked === undefined) {
      if (release.unversioned) return true;
      if (login) error(res, 415, 415, `Unsupported media type: send ${mediaType(newest())}`);
      else error(res, 406, 2060006, 'Invalid `Accept` type. Make sure your `Accept` header matches what this API produces.');
      return false;
    }
    if (release.versions.includes(asked)) {
      answering = asked;
      return true;
    }
    send(res, 406, {
      errorCode: 2060006,
      errorMessage: 'Invalid `Accept` type. Make sure your `Accept` header matches what this API produces.',
      ...(options.namesVersionsIn406 === false
        ? {}
        : { errorDetails: [`The requested API version ${asked} is not supported. Supported versions: ${release.versions.join(', ')}`] }),
    });
    return false;
  };
  const login = (req: IncomingMessage, res: ServerResponse, body: string) => {
    if (req.method !== 'POST') return error(res, 405, 405, 'Method not allowed');
    if (!negotiate(req, res, true)) return;
    let credentials: { userName?: unknown; password?: unknown; domainName?: unknown; domainType?: unknown };
    try {
      credentials = JSON.parse(body);
    } catch {
      return error(res, 400, 9000, 'The request body is not valid JSON');
    }
    const user = (options.auth?.users ?? []).find(
      (candidate) =>
        candidate.userName === credentials.userName &&
        candidate.password === credentials.password &&
        (candidate.domainName ?? '') === (credentials.domainName ?? '') &&
        (candidate.domainType ?? '') === (credentials.domainType ?? ''),
    );
    if (!user) return error(res, 401, 8000, 'Authentication failed: wrong user name or password');
    const validity = options.auth?.tokenValiditySeconds ?? 86_400;
    const token = `eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.${randomBytes(24).toString('base64url')}`;
    tokens.set(token, Date.now() + validity * 1000);
    logins++;
    return send(res, 201, { token, tokenType: 'BEARER', validity });
  };
  const collection = (res: ServerResponse, url: URL, type: string, idField: string, all: Record<string, unknown>[], fields: readonly string[]) => {
    const paging = type === 'job' && release.jobsPaging !== 'offset' ? 'cursor' : 'offset';
    const onceNow = options.ignorePageLimit === 'once' && !oversizedOnce && url.searchParams.has('filter');
    const ignoreLimit = options.ignorePageLimit === true || onceNow;
    const page = query(all, url, fields, { paging, idField, ignoreLimit, defaultSort: type === 'job' ? '-startTime' : undefined });
    // 'once' is spent by the first answer that really holds more than page[limit] asked (not by an earlier short listing).
    if (onceNow && page.items.length > Number(url.searchParams.get('page[limit]') ?? Number.POSITIVE_INFINITY)) oversizedOnce = true;
    if (type === 'job' && release.jobsPaging === 'links') delete page.meta.pagination.next;
    if (options.nextLinkOrigin && page.links.next) page.links.next = { href: new URL(page.links.next.href, options.nextLinkOrigin).href };
    return send(res, 200, {
      data: page.items.map((attributes) => ({
        type,
        id: String(attributes[idField]),
        attributes,
        links: { self: { href: `${url.pathname}/${encodeURIComponent(String(attributes[idField]))}` } },
      })),
      meta: page.meta,
      links: page.links,
    });
  };
  const server: Server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      answering = '';
      if (options.handler?.(req, res, body)) return;
      const url = new URL(req.url!, 'https://stand-in');
      if (!url.pathname.startsWith('/netbackup/')) return error(res, 404, 404, 'not found');
      const path = url.pathname.slice('/netbackup'.length);
      if (path === '/login') return login(req, res, body);
      if (!req.headers.authorization) return error(res, 401, 8000, 'Authentication failed: no Authorization header');
      if (options.auth && !authorized(req.headers.authorization)) return error(res, 401, 8000, 'Authentication failed: the token or API key is not valid');
      if (path === '/admin/jobs' || path.startsWith('/admin/jobs/') || path === '/catalog/images' || path.startsWith('/catalog/images/')) {
        if (req.method !== 'GET') return error(res, 405, 405, 'Method not allowed');
        if (!negotiate(req, res, false)) return;
        try {
          if (path === '/admin/jobs') return collection(res, url, 'job', 'jobId', jobList.values(), JOB_FIELDS);
          if (path === '/catalog/images') return collection(res, url, 'image', 'backupId', imageList.values(), IMAGE_FIELDS);
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
          let server: VmServer;
          try {
            server = JSON.parse(body);
          } catch {
            return error(res, 400, 9000, 'The request body is not valid JSON');
          }
          if (typeof server.serverName !== 'string' || server.serverName === '') return error(res, 400, 9001, 'serverName is required');
          if (vmservers.has(server.serverName)) return error(res, 409, 9002, `The server ${server.serverName} already exists`);
          vmservers.set(server.serverName, server);
          return send(res, 201);
        }
        return error(res, 405, 405, 'Method not allowed');
      }
      const one = /^\/config\/servers\/vmservers\/([^/]+)$/.exec(path);
      if (one) {
        const name = decodeURIComponent(one[1]!);
        const server = vmservers.get(name);
        if (!server) return error(res, 404, 9003, `The server ${name} was not found`);
        if (req.method === 'GET')
          return send(res, 200, { vmServer: { ...server, password: '' }, links: [{ rel: 'self', href: `https://${host}/netbackup${path}` }] });
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
          vmservers.set(name, req.method === 'PUT' ? { ...(patch as VmServer), serverName: name } : { ...server, ...patch, serverName: name });
          return send(res, 204);
        }
        return error(res, 405, 405, 'Method not allowed');
      }
      return error(res, 404, 404, `No resource at ${url.pathname}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  function setJob(change: Partial<JobAttributes> & { jobId: number }): JobAttributes {
    const before = jobs.get(change.jobId);
    // lastUpdateTime: now, in whole seconds as NetBackup's (a test may name the second).
    const job = {
      ...(options.fullAttributes === false ? MINIMAL_JOB : JOB_DEFAULTS),
      ...before,
      ...change,
      lastUpdateTime: change.lastUpdateTime ?? isoNow(),
    } as JobAttributes;
    if (!job.startTime) job.startTime = job.lastUpdateTime;
    if (options.fullAttributes !== false && !job.activeTryStartTime) job.activeTryStartTime = job.startTime;
    jobList.changed(jobs.set(change.jobId, job));
    return job;
  }
  return {
    baseUrl: `https://${host.includes(':') ? `[${host}]` : host}:${port}/netbackup`,
    port,
    fingerprint: new X509Certificate(tls.cert).fingerprint256,
    certPem: tls.cert,
    requests,
    setJob: (j) => setJob(j),
    setJobs: (js) => {
      for (const j of js) setJob(j);
    },
    get release() {
      return release;
    },
    setRelease: (r) => {
      release = releaseOf(r);
    },
    job: (id) => jobs.get(id),
    setImage: (i) => imageList.changed(images.set(i.backupId, { ...i })),
    deleteImage: (id) => imageList.changed(images.delete(id)),
    revokeApiKey: (k) => void apiKeys.delete(k),
    forgetTokens: () => tokens.clear(),
    get logins() {
      return logins;
    },
    setCertificate: (certificate) => {
      // As a restarted web service would: the new certificate for every connection from now on.
      server.setSecureContext({ key: certificate.key, cert: certificate.cert });
      server.closeAllConnections();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
