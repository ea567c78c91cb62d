import { NbwssError } from '../errors.js';
import { W } from '../hints.js';
import { safeText } from '../text.js';
import type { RestClient } from './rest.js';

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
    const c = JSON.parse(json) as ApiAuthConfig;
    return c.kind === 'key' || (c.kind === 'login' && typeof c.userName === 'string') ? c : undefined;
  } catch {
    return undefined;
  }
}

export function describeAuth(c: ApiAuthConfig | undefined): string {
  if (!c) return 'none';
  if (c.kind === 'key') return 'API key';
  return `user ${safeText(c.domainName ? `${c.domainName}\\${c.userName}` : c.userName)}${c.domainType ? ` (${safeText(c.domainType)})` : ''}`;
}

/** NetBackup's media type, with the API version asked for (property api.version). */
export const mediaType = (version: string) => `application/vnd.netbackup+json;version=${version}`;

export interface JsonAnswer {
  status: number;
  json: unknown;
  /** The primary's clock (the Date header), when it sent one. */
  date: Date | undefined;
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
  const r = await client.call({ method: req.method, path, headers: req.headers, body: req.body }, signal);
  let json: unknown;
  try {
    json = r.body === '' ? undefined : JSON.parse(r.body);
  } catch {
    json = undefined;
  }
  const dateHeader = r.headers.date;
  const date = dateHeader && !Number.isNaN(Date.parse(dateHeader)) ? new Date(dateHeader) : undefined;
  const nbwssError = r.headers['x-nbwss-error'];
  const message = (json as { errorMessage?: unknown } | undefined)?.errorMessage;
  const problem = nbwssError
    ? String(message ?? nbwssError)
    : `${req.method} ${req.path.replace(/\?.*$/, '')} answered ${r.responseCode}${typeof message === 'string' ? `: ${safeText(message).slice(0, 200)}` : ''}`;
  return { status: r.responseCode, json, date, nbwssError, problem };
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
}

/** POST /login: a JWT for the user, or CredentialsRejected / a NETWORK error. */
export async function login(
  client: RestClient,
  c: Extract<ApiAuthConfig, { kind: 'login' }>,
  password: string,
  version: string,
  signal: AbortSignal,
  now = Date.now(),
): Promise<Token> {
  const body = JSON.stringify({
    userName: c.userName,
    password,
    ...(c.domainName ? { domainName: c.domainName } : {}),
    ...(c.domainType ? { domainType: c.domainType } : {}),
  });
  const a = await callJson(
    client,
    { method: 'POST', path: '/login', headers: { 'content-type': mediaType(version), accept: mediaType(version) }, body },
    signal,
  );
  if (a.status === 401 || a.status === 403) throw new CredentialsRejected(a.status, a.problem, c);
  const j = a.json as { token?: unknown; validity?: unknown } | undefined;
  if (a.status !== 201 && a.status !== 200)
    throw new NbwssError('NETWORK', `Logging in to NetBackup's REST API failed: ${a.problem}`, {
      hint: `Check api.baseUrl and the primary's web service (${W.apiTest})`,
    });
  if (typeof j?.token !== 'string' || j.token === '') throw new NbwssError('NETWORK', "NetBackup's login answer has no token");
  const validity = typeof j.validity === 'number' && j.validity > 0 ? j.validity : 86_400;
  return { value: j.token, renewAt: now + validity * 800 };
}

/**
 * The Authorization header to send: the API key, or a JWT that is logged in
 * for on first use and renewed before it expires (or at once after a 401).
 */
export class ApiCredentials {
  private token: Token | undefined;
  private pending: Promise<Token> | undefined;

  constructor(
    readonly config: ApiAuthConfig,
    private readonly secret: string,
    private readonly client: () => RestClient,
    private readonly version: () => string,
    private readonly now: () => number = Date.now,
  ) {}

  async header(signal: AbortSignal): Promise<string> {
    if (this.config.kind === 'key') return this.secret;
    if (this.token && this.now() < this.token.renewAt) return this.token.value;
    this.pending ??= login(this.client(), this.config, this.secret, this.version(), signal, this.now()).finally(() => {
      this.pending = undefined;
    });
    this.token = await this.pending;
    return this.token.value;
  }

  /** A 401 with a JWT: log in again on the next call (once). */
  forgetToken(): boolean {
    const had = this.config.kind === 'login' && this.token !== undefined;
    this.token = undefined;
    return had;
  }

  /** GET a path with these credentials: a 401 on a JWT logs in again once; a 401/403 otherwise is CredentialsRejected. */
  async get(path: string, signal: AbortSignal): Promise<JsonAnswer> {
    for (let attempt = 0; ; attempt++) {
      const authorization = await this.header(signal);
      const a = await callJson(this.client(), { method: 'GET', path, headers: { authorization, accept: mediaType(this.version()) } }, signal);
      if ((a.status === 401 || a.status === 403) && !a.nbwssError) {
        if (a.status === 401 && attempt === 0 && this.forgetToken()) continue;
        throw new CredentialsRejected(a.status, a.problem, this.config);
      }
      return a;
    }
  }
}
