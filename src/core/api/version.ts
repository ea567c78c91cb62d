/**
 * Which version of NetBackup's REST API nbwss asks for
 * (`application/vnd.netbackup+json;version=X`), in one place for every
 * caller: the poller, `nbwss api test`, `api key set`/`login` and
 * `notify --script`.
 *
 * Evidence (named here because no primary runs in this repository):
 * - Each release's OpenAPI bundle declares one media type per resource:
 *   10.3 → 10.0, 10.5 → 12.0, 11.0 → 13.0, 11.2 → 14.0 (the bundles kept by
 *   fjacquet/nbu_exporter, docs/veritas-*; its ADR-0003).
 * - A version the primary does not serve is answered 406 "Invalid `Accept`
 *   type" with NetBackup's error body (errorCode, errorMessage,
 *   errorDetails); nbu_exporter probes 14.0 → 13.0 → 12.0 → 10.0 for that
 *   reason (internal/exporter/version_detector.go).
 * - Veritas's own automation for 10.5–11.1 (VeritasOS/netbackup-automation-
 *   platform, rest-api-integration/defaults/main.yml) calls the API with a
 *   plain `Content-Type: application/json` and no versioned Accept, so an
 *   unversioned request is answered; its answer's Content-Type names the
 *   version it was answered in (nbu_exporter's stand-ins set it so too).
 *
 * So: `auto` (the default) asks once without a version and takes the one
 * the answer names; failing that, it tries the versions a 406 names, then
 * the known ones newest first. A set api.version is used as given.
 */

export const AUTO_VERSION = 'auto';

/** The API versions nbwss knows, newest first (14.0 = NetBackup 11.2, 13.0 = 11.0, 12.0 = 10.5, 10.0 = 10.3, 4.0 = 8.3). */
export const KNOWN_API_VERSIONS: readonly string[] = ['14.0', '13.0', '12.0', '11.0', '10.0', '9.0', '8.0', '7.0', '6.0', '5.0', '4.0', '3.0', '2.0', '1.0'];

/** From NetBackup 10.5 (API 12.0) on, Veritas's own automation sends a JWT as `Bearer <token>`; older documentation sends it bare. */
export const BEARER_FROM_VERSION = '12.0';

/** NetBackup's media type, with an API version. */
export const mediaType = (version: string) => `application/vnd.netbackup+json;version=${version}`;

const VERSION = /^[0-9]{1,2}\.[0-9]{1,2}$/;

export const isApiVersion = (v: string) => VERSION.test(v);

/** `application/vnd.netbackup+json; version=13.0` → 13.0; undefined for anything else. */
export function versionOfContentType(contentType: string | undefined): string | undefined {
  if (!contentType) return undefined;
  const match = /^\s*application\/vnd\.netbackup\+json\s*;(?:.*;)?\s*version\s*=\s*"?([0-9]{1,2}\.[0-9]{1,2})"?\s*(?:;|$)/i.exec(contentType);
  return match?.[1];
}

/** Compare two versions as numbers (13.0 > 4.0). */
export function compareVersions(a: string, b: string): number {
  const [am, an] = a.split('.').map(Number) as [number, number];
  const [bm, bn] = b.split('.').map(Number) as [number, number];
  return am - bm || an - bn;
}

/** The versions a 406 answer names (in errorDetails or errorMessage), newest first, without the one that was refused. */
export function versionsNamedIn(errorBody: unknown, refused?: string): string[] {
  const body = errorBody as { errorMessage?: unknown; errorDetails?: unknown } | undefined;
  const texts = [body?.errorMessage, ...(Array.isArray(body?.errorDetails) ? body.errorDetails : [])].filter((t): t is string => typeof t === 'string');
  const found = new Set<string>();
  for (const t of texts) for (const m of t.slice(0, 4096).matchAll(/(?<![0-9.])([0-9]{1,2}\.[0-9]{1,2})(?![0-9.])/g)) found.add(m[1]!);
  found.delete(refused ?? '');
  return [...found].sort((x, y) => compareVersions(y, x));
}

/** Whether a JWT goes as `Bearer <jwt>` to a primary answering in this version. */
export const bearerFor = (version: string | undefined) => version !== undefined && compareVersions(version, BEARER_FROM_VERSION) >= 0;

export interface VersionAnswer {
  status: number;
  contentType: string | undefined;
  json: unknown;
}

/**
 * One request of the negotiation: `accept` undefined means "no version"
 * (a plain `Content-Type: application/json`, as Veritas's automation sends).
 * Throws what the caller throws for refused credentials or an unreachable
 * primary: those end the negotiation.
 */
export type VersionProbe = (version: string | undefined) => Promise<VersionAnswer>;

export class NoServedVersion extends Error {}

/**
 * The highest version the primary serves, found with as few requests as it
 * can: a version already known to work for it (the one its login answered
 * in), else one request without a version, else the versions a 406 names,
 * else the known ones newest first.
 */
export async function negotiateVersion(probe: VersionProbe, knownFirst: readonly string[] = []): Promise<string> {
  const tried = new Set<string>();
  for (const v of knownFirst) {
    tried.add(v);
    if ((await probe(v)).status !== 406) return v;
  }
  const plain = await probe(undefined);
  const said = versionOfContentType(plain.contentType);
  if (plain.status !== 406 && said) return said;
  const candidates = [...versionsNamedIn(plain.json), ...KNOWN_API_VERSIONS];
  for (let i = 0; i < candidates.length; i++) {
    const value = candidates[i]!;
    if (tried.has(value)) continue;
    tried.add(value);
    const answer = await probe(value);
    if (answer.status !== 406) return value;
    // A 406 that names what is served: those next, newest first.
    candidates.splice(i + 1, 0, ...versionsNamedIn(answer.json, value).filter((named) => !tried.has(named)));
  }
  throw new NoServedVersion(`the primary refused every API version nbwss knows (${KNOWN_API_VERSIONS.join(', ')})`);
}
