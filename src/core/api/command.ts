import { isUtf8 } from 'node:buffer';

/**
 * COMMAND REQUEST → REST request, and the synthetic answers nbwss gives when
 * it cannot or will not make the call. Pure: no network, no terminal.
 *
 * The daemon — never the cloud — chooses scheme, host and port (api.baseUrl);
 * the cloud's `uri` must be an absolute path under the base's path.
 */

export const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type Method = (typeof METHODS)[number];

/** Headers never passed on: hop-by-hop ones (RFC 9110 §7.6.1), and those the HTTP client sets itself. */
const DROPPED_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'trailers',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'expect',
]);

/** The payload of a COMMAND RESPONSE (guide, "NetBackup responds to the endpoint request"). */
export interface CommandResponsePayload {
  headers: Record<string, string>;
  responseCode: number;
  body: string;
}

/** nbwss's own answers: a responseCode and a body `{"errorCode": "NBWSS_…", "errorMessage": …}`. */
export const SYNTHETIC = {
  NBWSS_BAD_REQUEST: 400,
  NBWSS_URI_REFUSED: 403,
  NBWSS_METHOD_NOT_ALLOWED: 405,
  NBWSS_RESPONSE_TOO_LARGE: 413,
  NBWSS_REQUEST_TOO_LARGE: 413,
  NBWSS_NOT_CONNECTED: 425,
  NBWSS_BUSY: 503,
  NBWSS_API_UNREACHABLE: 502,
  NBWSS_API_TLS: 502,
  NBWSS_API_TIMEOUT: 504,
} as const;
export type SyntheticCode = keyof typeof SYNTHETIC;

export function syntheticResponse(errorCode: SyntheticCode, errorMessage: string): CommandResponsePayload {
  return {
    // The header and the NBWSS_ prefix let a cloud tell nbwss's answer from NetBackup's.
    headers: { 'content-type': 'application/json', 'x-nbwss-error': errorCode },
    responseCode: SYNTHETIC[errorCode],
    body: JSON.stringify({ errorCode, errorMessage }),
  };
}

export interface RestRequest {
  method: Method;
  /** The path and query to request on the base's origin (starts with the base path). */
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
}

export type Mapped = { ok: true; request: RestRequest } | { ok: false; response: CommandResponsePayload };

const refuse = (code: SyntheticCode, message: string): Mapped => ({ ok: false, response: syntheticResponse(code, message) });

/** A header name as HTTP allows it (RFC 9110 token). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A header value: visible characters, spaces and tabs; no CR, LF or NUL. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\uffff]*$/;
/** What HTTP/1.1 can carry in a header value: Latin-1 (a character beyond it cannot be sent as it is). */
const LATIN1 = /^[\x00-\xff]*$/;

/**
 * Why a uri is refused (undefined when it is a plain absolute path under
 * `basePath`). Refused: anything not starting with "/", "//host", a scheme,
 * backslashes, control characters and spaces, a fragment, "." and ".."
 * segments in any percent-encoded form (decoded until nothing changes),
 * encoded slashes, and any path outside the base.
 */
export function uriProblem(uri: string, basePath: string): string | undefined {
  if (uri === '') return 'the uri is empty';
  if (!uri.startsWith('/')) return 'the uri must be an absolute path (starting with /), not a URL';
  if (uri.startsWith('//')) return 'the uri must not start with //';
  if (/[\x00-\x20\x7f]/.test(uri)) return 'the uri contains a control character or a space';
  if (uri.includes('\\')) return 'the uri contains a backslash';
  if (uri.includes('#')) return 'the uri contains a fragment (#)';
  const queryAt = uri.indexOf('?');
  const path = queryAt === -1 ? uri : uri.slice(0, queryAt);
  for (const segment of path.split('/').slice(1)) {
    let text = segment;
    for (let rounds = 0; ; rounds++) {
      let decoded: string;
      try {
        decoded = decodeURIComponent(text);
      } catch {
        return 'the uri has a malformed percent-encoding';
      }
      if (decoded === text) break;
      if (rounds === 8) return 'the uri is percent-encoded too many times';
      text = decoded;
    }
    if (text === '.' || text === '..') return 'the uri contains a "." or ".." segment';
    // Servlet containers (NetBackup's web service runs on one) drop ";…" path parameters before resolving "..".
    if (text.includes(';')) return 'the uri contains a ";" path parameter';
    if (text !== '' && /^[.\s]+$/.test(text)) return 'the uri contains a segment of only dots and spaces';
    if (text.includes('/') || text.includes('\\')) return 'the uri contains an encoded slash or backslash';
    if (/[\x00-\x1f\x7f]/.test(text)) return 'the uri contains an encoded control character';
  }
  const base = basePath.replace(/\/+$/, '');
  if (base !== '' && path !== base && !path.startsWith(`${base}/`)) return `the uri is not under ${base}/`;
  return undefined;
}

/** Map a COMMAND REQUEST's payload to a REST request, or to the synthetic answer that refuses it. */
export function mapCommand(payload: unknown, basePath: string): Mapped {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return refuse('NBWSS_BAD_REQUEST', 'the payload must be an object');
  const fields = payload as Record<string, unknown>;
  if (typeof fields.uri !== 'string') return refuse('NBWSS_BAD_REQUEST', 'payload.uri must be a string');
  if (typeof fields.method !== 'string') return refuse('NBWSS_BAD_REQUEST', 'payload.method must be a string');
  if (!(METHODS as readonly string[]).includes(fields.method))
    return refuse('NBWSS_METHOD_NOT_ALLOWED', `method ${JSON.stringify(fields.method.slice(0, 20))} is not allowed; use one of ${METHODS.join(', ')}`);
  const why = uriProblem(fields.uri, basePath);
  if (why) return refuse('NBWSS_URI_REFUSED', why);
  const headers: Record<string, string> = {};
  if (fields.headers !== undefined && fields.headers !== null) {
    if (typeof fields.headers !== 'object' || Array.isArray(fields.headers)) return refuse('NBWSS_BAD_REQUEST', 'payload.headers must be an object of strings');
    for (const [name, value] of Object.entries(fields.headers as Record<string, unknown>)) {
      if (typeof value !== 'string') return refuse('NBWSS_BAD_REQUEST', `header ${JSON.stringify(name.slice(0, 40))} must be a string`);
      if (!TOKEN.test(name)) return refuse('NBWSS_BAD_REQUEST', `${JSON.stringify(name.slice(0, 40))} is not a valid header name`);
      if (!FIELD_VALUE.test(value)) return refuse('NBWSS_BAD_REQUEST', `header ${name} has a value with a line break or control character`);
      if (!LATIN1.test(value)) return refuse('NBWSS_BAD_REQUEST', `header ${name} has a character beyond Latin-1, which HTTP cannot carry: percent-encode it`);
      const lower = name.toLowerCase();
      if (DROPPED_HEADERS.has(lower)) continue;
      headers[lower] = lower in headers ? `${headers[lower]}, ${value}` : value;
    }
  }
  // Headers named by a Connection header are hop-by-hop too.
  const connection = Object.entries(fields.headers ?? {}).find(([n]) => n.toLowerCase() === 'connection')?.[1];
  if (typeof connection === 'string') for (const n of connection.split(',')) delete headers[n.trim().toLowerCase()];
  if (fields.parameters !== undefined && fields.parameters !== null && typeof fields.parameters !== 'string')
    return refuse('NBWSS_BAD_REQUEST', 'payload.parameters must be a string (the request body, JSON-escaped)');
  const body = typeof fields.parameters === 'string' && fields.parameters !== '' ? fields.parameters : undefined;
  return { ok: true, request: { method: fields.method as Method, path: fields.uri, headers, body } };
}

/** The header nbwss adds when a REST answer's body is not UTF-8 text: the body is then base64. */
export const BODY_ENCODING_HEADER = 'x-nbwss-body-encoding';

/** A REST answer's body for the guide's string `body`: text as it is; anything that is not valid UTF-8, base64 (said in a header). */
export function responseBody(raw: Buffer, headers: Record<string, string>): { body: string; headers: Record<string, string> } {
  if (isUtf8(raw)) return { body: raw.toString('utf8'), headers };
  return { body: raw.toString('base64'), headers: { ...headers, [BODY_ENCODING_HEADER]: 'base64' } };
}

/** Response headers as the guide shows them: lower-case names, one string per name (repeated ones joined with ", "). */
export function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/** A path for the log: the query string may hold secrets, so it is masked. */
export function maskedPath(path: string): string {
  const queryAt = path.indexOf('?');
  return queryAt === -1 ? path : `${path.slice(0, queryAt)}?<redacted>`;
}
