import { NbwssError } from '../errors.js';
import { W } from '../hints.js';
import { safeText } from '../text.js';
import type { RestClient } from './rest.js';
import {
  AUTO_VERSION,
  bearerFor,
  KNOWN_API_VERSIONS,
  mediaType,
  NoServedVersion,
  negotiateVersion,
  type VersionAnswer,
  versionOfContentType,
} from './version.js';

export { mediaType } from './version.js';

/**
 * The daemon's own credentials for NetBackup's REST API (never a cloud's):
 * an API key (`Authorization: <key>`), or a user whose password logs in with
 * POST /login for a JWT that is renewed before it expires. What kind is in
 * the store's meta; the key or password in the secret store under accounts
 * no host name can take (an `@` is never part of a host name).
 */
export const API_AUTH_META = 'api_auth';
export const API_KEY_ACCOUNT = '@api-key';
export const API_PASSWORD_ACCOUNT = '@api-password';
export const API_ACCOUNTS = [API_KEY_ACCOUNT, API_PASSWORD_ACCOUNT] as const;

export type ApiAuthConfig = { kind: 'key' } | { kind: 'login'; userName: string; domainName?: string; domainType?: string };

export function parseAuthConfig(json: string | undefined): ApiAuthConfig | undefined {
  if (!json) return undefined;
  try {
    const config = JSON.parse(json) as ApiAuthConfig;
    return config.kind === 'key' || (config.kind === 'login' && typeof config.userName === 'string') ? config : undefined;
  } catch {
    return undefined;
  }
}

export function describeAuth(config: ApiAuthConfig | undefined): string {
  if (!config) return 'none';
  if (config.kind === 'key') return 'API key';
  return `user ${safeText(config.domainName ? `${config.domainName}\\${config.userName}` : config.userName)}${config.domainType ? ` (${safeText(config.domainType)})` : ''}`;
}

export interface JsonAnswer {
  status: number;
  json: unknown;
  /** The primary's clock (the Date header), when it sent one. */
  date: Date | undefined;
  /** The answer's Content-Type (it names the API version the primary answered in). */
  contentType: string | undefined;
  /** nbwss's own error code when the call never reached NetBackup (NBWSS_API_TLS, …). */
  nbwssError: string | undefined;
  /** A short, safe description of a failed answer. */
  problem: string;
}

/** One REST call whose answer is JSON (or an error described in a sentence). */
export async function callJson(
  client: RestClient,
  req: { method: 'GET' | 'POST'; path: string; headers: Record<string, string>; body?: string },
  signal: AbortSignal,
): Promise<JsonAnswer> {
  const path = client.settings.baseUrl.pathname.replace(/\/$/, '') + req.path;
  const payload = await client.call({ method: req.method, path, headers: req.headers, body: req.body }, signal);
  let json: unknown;
  try {
    json = payload.body === '' ? undefined : JSON.parse(payload.body);
  } catch {
    json = undefined;
  }
  const dateHeader = payload.headers.date;
  const date = dateHeader && !Number.isNaN(Date.parse(dateHeader)) ? new Date(dateHeader) : undefined;
  const nbwssError = payload.headers['x-nbwss-error'];
  const message = (json as { errorMessage?: unknown } | undefined)?.errorMessage;
  const problem = nbwssError
    ? String(message ?? nbwssError)
    : `${req.method} ${req.path.replace(/\?.*$/, '')} answered ${payload.responseCode}${typeof message === 'string' ? `: ${safeText(message).slice(0, 200)}` : ''}`;
  return { status: payload.responseCode, json, date, contentType: payload.headers['content-type'], nbwssError, problem };
}

/** Credentials were refused (401/403): not worth retrying until they change. */
export class CredentialsRejected extends NbwssError {
  constructor(
    readonly status: number,
    what: string,
    auth: ApiAuthConfig | undefined,
  ) {
    super('AUTH', `NetBackup's REST API refused the ${describeAuth(auth)} (${status}): ${what}`, {
      hint:
        status === 403
          ? "The credentials are valid but lack the permissions nbwss needs (view jobs and images): grant them to the key's or user's role on the primary"
          : auth?.kind === 'login'
            ? `Log in again with: ${W.apiLogin}`
            : `Set a valid API key with: ${W.apiKeySet}`,
    });
  }
}

export interface Token {
  value: string;
  /** Wall-clock ms after which it is renewed (at 80 % of its validity). */
  renewAt: number;
  /** The API version the login was answered in, if it said. */
  version?: string | undefined;
}

/** The headers of a request in an API version; without one, a plain JSON request (as Veritas's own automation sends). */
export function versionHeaders(version: string | undefined, withBody = false): Record<string, string> {
  if (version === undefined) return { 'content-type': 'application/json' };
  return withBody ? { 'content-type': mediaType(version), accept: mediaType(version) } : { accept: mediaType(version) };
}

/**
 * POST /login: a JWT for the user, or CredentialsRejected / a NETWORK error.
 * Without a version known yet it logs in with plain JSON (Veritas's Ansible
 * roles for 10.5–11.1 do) and, refused that (406/415: an older primary),
 * in each known version newest first. The token says which version answered.
 */
export async function login(
  client: RestClient,
  config: Extract<ApiAuthConfig, { kind: 'login' }>,
  password: string,
  version: string | undefined,
  signal: AbortSignal,
  now = Date.now(),
): Promise<Token> {
  const body = JSON.stringify({
    userName: config.userName,
    password,
    ...(config.domainName ? { domainName: config.domainName } : {}),
    ...(config.domainType ? { domainType: config.domainType } : {}),
  });
  const tries = version === undefined ? [undefined, ...KNOWN_API_VERSIONS] : [version];
  let answer: JsonAnswer | undefined;
  let answeredIn: string | undefined;
  for (const v of tries) {
    answer = await callJson(client, { method: 'POST', path: '/login', headers: versionHeaders(v, true), body }, signal);
    answeredIn = versionOfContentType(answer.contentType) ?? v;
    if (answer.status !== 406 && answer.status !== 415) break;
  }
  if (!answer) throw new NbwssError('NETWORK', "Logging in to NetBackup's REST API was not tried");
  if (answer.status === 401 || answer.status === 403) throw new CredentialsRejected(answer.status, answer.problem, config);
  const json = answer.json as { token?: unknown; validity?: unknown } | undefined;
  if (answer.status !== 201 && answer.status !== 200)
    throw new NbwssError('NETWORK', `Logging in to NetBackup's REST API failed: ${answer.problem}`, {
      hint: `Check api.baseUrl and the primary's web service (${W.apiTest})`,
    });
  if (typeof json?.token !== 'string' || json.token === '') throw new NbwssError('NETWORK', "NetBackup's login answer has no token");
  const validity = typeof json.validity === 'number' && json.validity > 0 ? json.validity : 86_400;
  return { value: json.token, renewAt: now + validity * 800, version: answeredIn };
}

/** Where the negotiated version is remembered (the store's meta, per api.baseUrl), so a restart does not ask again. */
export interface VersionMemory {
  get(): string | undefined;
  set(version: string): void;
}

/** A version was set (api.version) and the primary does not serve it. */
export class VersionRefused extends NbwssError {
  constructor(version: string, served: string | undefined) {
    super(
      'NETWORK',
      `NetBackup's REST API does not serve API version ${version} (api.version): it answered 406${served ? `; the newest version it serves is ${served}` : ''}`,
      { hint: `Let nbwss find the version with: ${W.configSet('api.version', AUTO_VERSION)}${served ? ` (or ${W.configSet('api.version', served)})` : ''}` },
    );
  }
}

/** What a caller of ApiCredentials hears of the version: found, changed (a primary upgraded under a running daemon). */
export type VersionEvent = { kind: 'found'; version: string } | { kind: 'changed'; from: string; to: string };

/**
 * The daemon's (or a command's) way into the REST API: the Authorization
 * header to send — the API key as it is, or a JWT logged in for on first use,
 * renewed before it expires (or once after a 401), sent as `Bearer <jwt>` to
 * primaries answering API 12.0 (NetBackup 10.5) or later — and the API
 * version to ask for: api.version as set, or with `auto` the one negotiated
 * (remembered; found again after a 406).
 */
export class ApiCredentials {
  private token: Token | undefined;
  private pending: Promise<Token> | undefined;
  private negotiated: string | undefined;
  private negotiating: Promise<string> | undefined;

  constructor(
    readonly config: ApiAuthConfig,
    private readonly secret: string,
    private readonly client: () => RestClient,
    private readonly versionSetting: () => string,
    private readonly options: { now?: () => number; memory?: VersionMemory; onVersion?: (event: VersionEvent) => void } = {},
  ) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** The version in force: api.version when set, else the negotiated one (undefined before the first call). */
  get version(): string | undefined {
    const set = this.versionSetting();
    return set !== AUTO_VERSION ? set : this.negotiated;
  }

  /** How the version in force was chosen, for api test and status. */
  get versionSource(): 'api.version' | 'negotiated' {
    return this.versionSetting() !== AUTO_VERSION ? 'api.version' : 'negotiated';
  }

  private async jwt(signal: AbortSignal): Promise<Token> {
    if (this.config.kind !== 'login') throw new Error('not a login');
    if (this.token && this.now() < this.token.renewAt) return this.token;
    const config = this.config;
    this.pending ??= login(this.client(), config, this.secret, this.version, signal, this.now()).finally(() => {
      this.pending = undefined;
    });
    this.token = await this.pending;
    return this.token;
  }

  /** The Authorization header for a request in `version`. */
  async header(signal: AbortSignal, version = this.version): Promise<string> {
    if (this.config.kind === 'key') return this.secret;
    const token = await this.jwt(signal);
    return bearerFor(version ?? token.version) ? `Bearer ${token.value}` : token.value;
  }

  /** A 401 with a JWT: log in again on the next call (once). */
  forgetToken(): boolean {
    const had = this.config.kind === 'login' && this.token !== undefined;
    this.token = undefined;
    return had;
  }

  /** The version to ask for; with auto, negotiated on first use (one request when the primary names it). */
  async ensureVersion(signal: AbortSignal): Promise<string> {
    const value = this.version;
    if (value !== undefined) return value;
    const remembered = this.options.memory?.get();
    if (remembered) {
      this.negotiated = remembered;
      return remembered;
    }
    return this.negotiate(signal);
  }

  private negotiate(signal: AbortSignal): Promise<string> {
    this.negotiating ??= (async () => {
      const hint = this.config.kind === 'login' ? (await this.jwt(signal)).version : undefined;
      const found = await negotiateVersion((v) => this.probe(v, signal), hint ? [hint] : []);
      this.negotiated = found;
      try {
        this.options.memory?.set(found);
      } catch {
        // Remembering is a saving, not a need: the next start asks again.
      }
      return found;
    })().finally(() => {
      this.negotiating = undefined;
    });
    return this.negotiating;
  }

  /** One negotiation request: the cheapest listing there is. Refused credentials end it. */
  private async probe(version: string | undefined, signal: AbortSignal): Promise<VersionAnswer> {
    const answer = await callJson(
      this.client(),
      { method: 'GET', path: '/admin/jobs?page%5Blimit%5D=1', headers: { authorization: await this.header(signal, version), ...versionHeaders(version) } },
      signal,
    );
    if (answer.nbwssError) throw new NbwssError('NETWORK', answer.problem, { hint: `Check it with: ${W.apiTest}` });
    if (answer.status === 401 || answer.status === 403) throw new CredentialsRejected(answer.status, answer.problem, this.config);
    return { status: answer.status, contentType: answer.contentType, json: answer.json };
  }

  /**
   * GET a path with these credentials in the version in force: a 401 on a
   * JWT logs in again once; a 401/403 otherwise is CredentialsRejected; a 406
   * finds the version again once (auto) or says what the primary serves (a set api.version).
   */
  async get(path: string, signal: AbortSignal): Promise<JsonAnswer> {
    let version = await this.ensureVersion(signal);
    let renegotiated = false;
    for (let attempt = 0; ; attempt++) {
      const authorization = await this.header(signal, version);
      const answer = await callJson(this.client(), { method: 'GET', path, headers: { authorization, accept: mediaType(version) } }, signal);
      if ((answer.status === 401 || answer.status === 403) && !answer.nbwssError) {
        if (answer.status === 401 && attempt === 0 && this.forgetToken()) continue;
        throw new CredentialsRejected(answer.status, answer.problem, this.config);
      }
      if (answer.status === 406 && !answer.nbwssError) {
        if (this.versionSetting() !== AUTO_VERSION) {
          let served: string | undefined;
          try {
            served = await negotiateVersion((v) => this.probe(v, signal));
          } catch (e) {
            if (!(e instanceof NoServedVersion)) throw e;
          }
          throw new VersionRefused(version, served);
        }
        if (renegotiated) throw new NbwssError('NETWORK', `${answer.problem} (API version ${version}, just negotiated)`);
        renegotiated = true;
        const before = version;
        this.negotiated = undefined;
        this.token = undefined;
        version = await this.negotiate(signal);
        if (version !== before) this.options.onVersion?.({ kind: 'changed', from: before, to: version });
        continue;
      }
      return answer;
    }
  }
}

/** The remembered version lives in the store's meta with the base URL it was found at: another primary asks again. */
export const API_VERSION_META = 'api_version';

export function versionMemory(
  meta: { getMeta(key: string): string | undefined; setMeta(key: string, value: string | undefined): void; write<T>(fn: () => T): T },
  baseUrl: string,
): VersionMemory {
  return {
    get: () => {
      try {
        const json = JSON.parse(meta.getMeta(API_VERSION_META) ?? 'null') as { baseUrl?: unknown; version?: unknown } | null;
        return json && json.baseUrl === baseUrl && typeof json.version === 'string' ? json.version : undefined;
      } catch {
        return undefined;
      }
    },
    set: (version) => meta.write(() => meta.setMeta(API_VERSION_META, JSON.stringify({ baseUrl, version }))),
  };
}
