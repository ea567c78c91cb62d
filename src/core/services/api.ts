import { readFileSync } from 'node:fs';
import {
  API_AUTH_META,
  API_KEY_ACCOUNT,
  API_PASSWORD_ACCOUNT,
  type ApiAuthConfig,
  ApiCredentials,
  CredentialsRejected,
  describeAuth,
  parseAuthConfig,
  versionMemory,
} from '../api/auth.js';
import { RestClient } from '../api/rest.js';
import { API_PIN_META, apiTrust } from '../api/trust.js';
import { loadProperties, type NbwssProperties } from '../config/properties.js';
import { NbwssError } from '../errors.js';
import { W } from '../hints.js';
import type { SecretStore } from '../secrets/index.js';
import type { EndpointStore } from '../store/db.js';

/** The REST client nbwss's own calls use: api.baseUrl, trusted by api.caFile or the pin (as the daemon's). */
export function restClientFor(props: NbwssProperties, store: EndpointStore | undefined): RestClient {
  const baseUrl = new URL(props['api.baseUrl']);
  const trust = apiTrust(baseUrl, props['api.caFile'], store?.getMeta(API_PIN_META), (f) => readFileSync(f, 'utf8'));
  return new RestClient({ baseUrl, trust, timeoutMs: props['api.timeout'], maxBodyBytes: props['api.maxBodyBytes'] });
}

const MAX_SECRET = 16 * 1024;

function checkSecret(what: string, value: string): string {
  const text = value.replace(/\r?\n$/, '');
  if (text === '')
    throw new NbwssError('USAGE', `No ${what} was given on standard input`, {
      hint: `Give it on standard input: ${what === 'API key' ? W.apiKeySet : `${W.apiLogin} < password.txt`}`,
    });
  if (text.length > MAX_SECRET) throw new NbwssError('USAGE', `The ${what} is longer than ${MAX_SECRET} characters`);
  if (/[\u0000-\u001f\u007f]/.test(text)) throw new NbwssError('USAGE', `The ${what} holds a control character or a line break: give it alone on one line`);
  return text;
}

export interface CredentialResult {
  auth: string;
  /** false when the primary could not be asked (unreachable, certificate not trusted): stored unchecked, with `why`. */
  checked: boolean;
  why?: string;
}

/**
 * Check credentials against the primary, then store them (secret in the
 * secret store, kind in the store): refused ones (401/403) are not stored.
 * When the primary cannot be reached they are stored unchecked and the
 * result says so (a key is often set before the network path is open).
 */
async function saveCredentials(
  store: EndpointStore,
  secrets: SecretStore,
  config: ApiAuthConfig,
  secret: string,
  check: (client: RestClient, signal: AbortSignal) => Promise<void>,
): Promise<CredentialResult> {
  const props = loadProperties(store.home);
  const client = restClientFor(props, store);
  let checked = true;
  let why: string | undefined;
  try {
    await check(client, AbortSignal.timeout(props['api.timeout']));
  } catch (e) {
    if (e instanceof CredentialsRejected) throw e;
    checked = false;
    why = (e as Error).message;
  } finally {
    await client.close();
  }
  const [account, other] = config.kind === 'key' ? [API_KEY_ACCOUNT, API_PASSWORD_ACCOUNT] : [API_PASSWORD_ACCOUNT, API_KEY_ACCOUNT];
  store.write(() => {
    secrets.set(account, secret);
    secrets.delete(other);
    store.setMeta(API_AUTH_META, JSON.stringify(config));
  });
  return { auth: describeAuth(config), checked, why };
}

/** The credentials of a store, through the one place that negotiates the API version (remembered in the store when it can write). */
export function credentialsFor(
  store: EndpointStore | undefined,
  props: NbwssProperties,
  client: RestClient,
  config: ApiAuthConfig,
  secret: string,
): ApiCredentials {
  return new ApiCredentials(
    config,
    secret,
    () => client,
    () => props['api.version'],
    { memory: store ? versionMemory(store, props['api.baseUrl']) : undefined },
  );
}

/** A GET that must answer 200 with these credentials (401/403: CredentialsRejected; else an Error with what happened). */
async function probe(creds: ApiCredentials, path: string, signal: AbortSignal) {
  const answer = await creds.get(path, signal);
  if (answer.status !== 200) throw new Error(answer.problem);
  return answer;
}

export async function setApiKey(store: EndpointStore, secrets: SecretStore, raw: string): Promise<CredentialResult> {
  const key = checkSecret('API key', raw);
  const config: ApiAuthConfig = { kind: 'key' };
  const props = loadProperties(store.home);
  return saveCredentials(store, secrets, config, key, async (client, signal) => {
    await probe(credentialsFor(store, props, client, config, key), '/admin/jobs?page%5Blimit%5D=1', signal);
  });
}

export async function apiLogin(
  store: EndpointStore,
  secrets: SecretStore,
  user: { userName: string; domainName?: string; domainType?: string },
  raw: string,
): Promise<CredentialResult> {
  const password = checkSecret('password', raw);
  if (user.userName.trim() === '') throw new NbwssError('USAGE', '--user names the NetBackup user nbwss logs in as');
  const config: ApiAuthConfig = { kind: 'login', ...user };
  const props = loadProperties(store.home);
  return saveCredentials(store, secrets, config, password, async (client, signal) => {
    // Log in, then list a job as the daemon will (a role without the jobs permission is refused here, as with a key).
    await probe(credentialsFor(store, props, client, config, password), '/admin/jobs?page%5Blimit%5D=1', signal);
  });
}

/** Forget the REST API credentials. Returns what was forgotten. */
export function forgetApiCredentials(store: EndpointStore, secrets: SecretStore): string | undefined {
  const was = parseAuthConfig(store.getMeta(API_AUTH_META));
  store.write(() => {
    secrets.delete(API_KEY_ACCOUNT);
    secrets.delete(API_PASSWORD_ACCOUNT);
    store.setMeta(API_AUTH_META, undefined);
  });
  return was ? describeAuth(was) : undefined;
}

/** An error in a sentence, with its fix when it has one. */
const said = (e: unknown) => (e instanceof NbwssError && e.hint ? `${e.message}. ${e.hint}` : (e as Error).message);

export interface ApiCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface ApiTestResult {
  baseUrl: string;
  auth: string;
  checks: ApiCheck[];
  /** The worst failure's kind, for the exit code. */
  failure: 'AUTH' | 'NETWORK' | null;
  /** The API version nbwss asks for, once known. */
  version?: string;
}

/** `nbwss api test`: one call per thing nbwss needs of the REST API, each said as it went. */
export async function testApi(home: string, store: EndpointStore | undefined, secrets: SecretStore | undefined, writable = false): Promise<ApiTestResult> {
  const props = loadProperties(home);
  const config = parseAuthConfig(store?.getMeta(API_AUTH_META));
  const client = restClientFor(props, store);
  const checks: ApiCheck[] = [];
  const base = new URL(props['api.baseUrl']);
  let failure: ApiTestResult['failure'] = null;
  const result: { baseUrl: string; auth: string; version?: string } = { baseUrl: base.origin + base.pathname, auth: describeAuth(config) };
  const fail = (kind: 'AUTH' | 'NETWORK') => {
    if (failure !== 'AUTH') failure = kind;
  };
  try {
    const trust = client.settings.trust;
    checks.push({
      name: 'certificate',
      ok: trust.kind !== 'none',
      detail:
        trust.kind === 'ca' ? `trusted by api.caFile ${props['api.caFile']}` : trust.kind === 'pin' ? `pinned (SHA-256 ${trust.pin.fingerprint})` : trust.why,
    });
    if (trust.kind === 'none') {
      fail('NETWORK');
      return { ...result, checks, failure };
    }
    let secret: string | undefined;
    if (config && secrets) secret = secrets.get(config.kind === 'key' ? API_KEY_ACCOUNT : API_PASSWORD_ACCOUNT);
    if (!config || secret === undefined) {
      checks.push({ name: 'credentials', ok: false, detail: `none: set an API key with ${W.apiKeySet}, or log in with ${W.apiLogin}` });
      fail('AUTH');
      return { ...result, checks, failure };
    }
    const creds = credentialsFor(writable ? store : undefined, props, client, config, secret);
    const signal = AbortSignal.timeout(props['api.timeout']);
    try {
      await creds.header(signal);
      checks.push({ name: 'credentials', ok: true, detail: config.kind === 'key' ? 'API key (sent as it is)' : `${describeAuth(config)}: logged in` });
    } catch (e) {
      checks.push({ name: 'credentials', ok: false, detail: (e as Error).message });
      fail(e instanceof CredentialsRejected ? 'AUTH' : 'NETWORK');
      return { ...result, checks, failure };
    }
    try {
      const value = await creds.ensureVersion(signal);
      checks.push({
        name: 'version',
        ok: true,
        detail:
          creds.versionSource === 'api.version'
            ? `API ${value} (api.version)`
            : `API ${value} (auto: the newest the primary serves${writable ? ', remembered' : ''})`,
      });
      result.version = value;
    } catch (e) {
      checks.push({ name: 'version', ok: false, detail: said(e) });
      fail(e instanceof CredentialsRejected ? 'AUTH' : 'NETWORK');
      return { ...result, checks, failure };
    }
    for (const [name, path, poll] of [
      ['jobs', '/admin/jobs?page%5Blimit%5D=1', 'api.poll.jobs'],
      ['images', '/catalog/images?page%5Blimit%5D=1', 'api.poll.images'],
    ] as const) {
      try {
        const answer = await probe(creds, path, signal);
        const count = (answer.json as { meta?: { pagination?: { count?: unknown } } } | undefined)?.meta?.pagination?.count;
        checks.push({
          name,
          ok: true,
          detail: `GET ${path.replace(/\?.*/, '')} answered 200${typeof count === 'number' ? ` (${count} on the primary${name === 'images' ? ' in its default window' : ''})` : ''}; ${poll} is ${props[poll] ? 'on' : `off (${W.configSet(poll, 'true')})`}`,
        });
      } catch (e) {
        checks.push({ name, ok: false, detail: said(e) });
        fail(e instanceof CredentialsRejected ? 'AUTH' : 'NETWORK');
      }
    }
    return { ...result, checks, failure };
  } finally {
    await client.close();
  }
}
