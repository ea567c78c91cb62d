import { GUIDE, NbwssError } from '../errors.js';
import { JsonSyntaxError, parseJson, position, type Json } from './json.js';
import { canonicalHost, isValidHostName, parseWssUrl, sameHost, urlHost, maskUrl } from './url.js';
import { W } from '../hints.js';

/** One set of endpoint details, as the cloud provider hands them over (guide table 2-2). */
export interface EndpointDetails {
  token: string;
  priority: number;
  groupId: string;
  hostName: string;
  url: string;
}

export interface LoadedDetails {
  endpoints: EndpointDetails[];
  warnings: string[];
}

/** Details larger than this are refused without being read whole. */
export const MAX_DETAILS_BYTES = 1024 * 1024;
/** At most this many endpoints in one document (a provider hands over a few). */
export const MAX_ENDPOINTS = 1000;
/** NetBackup keeps priorities as 32-bit integers. */
export const MAX_PRIORITY = 2 ** 31 - 1;

export const FIELDS = ['token', 'priority', 'groupId', 'hostName', 'url'] as const;

const HINT =
  'Correct the endpoint details: one JSON object {"token", "priority", "groupId", "hostName", "url"} (or an array of them), with a wss:// url and no apostrophe anywhere.';

const invalid = (detail: string, hint = HINT) => new NbwssError('INVALID_DETAILS', `${GUIDE.jsonNotValid}: ${detail}`, { hint });

/** The guide's message for a details URL whose answer is not JSON at all. */
const unparsable = (err: NbwssError) =>
  new NbwssError('INVALID_DETAILS', GUIDE.unparsableJson, {
    hint: `The URL answered with something other than endpoint details (${err.message.replace(`${GUIDE.jsonNotValid}: `, '')}). Check the URL with the cloud provider.`,
  });

/** Strict UTF-8: an invalid byte is an error, not U+FFFD. A BOM is dropped. */
export function decodeDetails(bytes: Uint8Array): string {
  if (bytes.byteLength > MAX_DETAILS_BYTES) {
    throw invalid(
      `the details are larger than 1 MiB (${bytes.byteLength} bytes)`,
      'Endpoint details are a few hundred bytes; check that this is the right file.',
    );
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    throw invalid(`the details are not valid UTF-8 (invalid byte at offset ${at})`, 'Save the file as UTF-8.');
  }
}

/** The offset of the first byte that breaks UTF-8, for the error message. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  const dec = new TextDecoder('utf-8', { fatal: true });
  let lo = 0;
  let hi = bytes.byteLength;
  // Binary search for the shortest invalid prefix (a valid prefix may end mid-character; stream mode allows that).
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    try {
      dec.decode(bytes.subarray(0, mid + 1), { stream: true });
      dec.decode(); // reset
      lo = mid + 1;
    } catch {
      hi = mid;
    }
  }
  return lo;
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Bidirectional controls and zero-width characters: they make a name look like another one. */
const INVISIBLE = /[\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

/**
 * What is wrong with a text field, or undefined: missing or not a string, empty, blank, a control character (or, for
 * the names shown and compared, an invisible one), an unpaired surrogate. The first rule broken is the one said.
 */
function textProblem(field: string, value: unknown, visibleOnly = false): string | undefined {
  if (typeof value !== 'string') return value === undefined ? `${field} is missing` : `${field} must be a string`;
  if (value.length === 0) return `${field} is empty`;
  if (value.trim().length === 0) return `${field} is blank`;
  const match = CONTROL.exec(value) ?? (visibleOnly ? INVISIBLE.exec(value) : null);
  if (match) return `${field} contains a control character (U+${match[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')})`;
  if (LONE_SURROGATE.test(value)) return `${field} contains an unpaired UTF-16 surrogate escape`;
  return undefined;
}

/** The priority as a number, or what is wrong with it. */
function readPriority(value: unknown): { priority: number } | { problem: string } {
  const bad = (why: string) => ({ problem: `priority ${why}; it must be a whole number of 0 or more (a lower number is a higher priority)` });
  if (value === undefined) return { problem: 'priority is missing' };
  let priority: number;
  if (typeof value === 'number') priority = value;
  else if (typeof value === 'string' && /^[0-9]+$/.test(value)) priority = Number(value);
  else return bad(`is ${describeValue(value)}`);
  if (!Number.isInteger(priority)) return bad(`is ${priority}`);
  if (priority < 0) return bad(`is ${priority}`);
  if (priority > MAX_PRIORITY) return bad(`is larger than ${MAX_PRIORITY}`);
  return { priority: priority === 0 ? 0 : priority }; // -0 -> 0
}

/**
 * One endpoint's fields checked in the guide's order (token, priority, groupId, hostName, url): the details, or the
 * first field that is wrong and why. (A schema library did this once: loading it was most of what an `add` cost beyond Node's own start; see the README.)
 */
function readEndpoint(item: Record<string, unknown>): { details: EndpointDetails } | { problem: string } {
  const token = textProblem('token', item.token);
  if (token) return { problem: token };
  const priority = readPriority(item.priority);
  if ('problem' in priority) return priority;
  const problem =
    textProblem('groupId', item.groupId, true) ??
    textProblem('hostName', item.hostName, true) ??
    (isValidHostName(item.hostName as string) ? undefined : 'hostName is not a valid DNS name or IP address') ??
    textProblem('url', item.url, true);
  if (problem) return { problem };
  const { groupId, hostName, url } = item as { groupId: string; hostName: string; url: string };
  return { details: { token: item.token as string, priority: priority.priority, groupId, hostName, url } };
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string "${value.length > 20 ? `${value.slice(0, 20)}…` : value}"`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/** Every string in a JSON value, keys included, with a label of where it is. */
function* strings(value: Json, where: string): Generator<[string, string]> {
  if (typeof value === 'string') yield [value, where];
  else if (Array.isArray(value)) for (let k = 0; k < value.length; k++) yield* strings(value[k]!, where);
  else if (value !== null && typeof value === 'object')
    for (const [k, x] of Object.entries(value)) {
      yield [k, 'a property name'];
      yield* strings(x, (FIELDS as readonly string[]).includes(k) ? k : `property "${k}"`);
    }
}

/**
 * Endpoint details from raw bytes (a file or an HTTP body): decode, parse,
 * validate. Returns the endpoints and warnings, or throws INVALID_DETAILS.
 */
export function parseDetails(bytes: Uint8Array, from: 'file' | 'url' = 'file'): LoadedDetails {
  let source: string;
  try {
    source = decodeDetails(bytes);
  } catch (e) {
    throw from === 'url' ? unparsable(e as NbwssError) : e;
  }
  const textIn = source.charCodeAt(0) === 0xfeff ? source.slice(1) : source;

  let value: Json;
  try {
    value = parseJson(textIn);
  } catch (e) {
    if (e instanceof JsonSyntaxError && e.duplicate)
      throw invalid(`${e.message}; each field may appear only once`, 'Remove the duplicate so the details say one thing.');
    if (e instanceof JsonSyntaxError && from === 'url') throw unparsable(invalid(`not valid JSON: ${e.message}`));
    if (e instanceof JsonSyntaxError) throw invalid(`not valid JSON: ${e.message}`, 'Correct the JSON syntax at that position.');
    throw e;
  }

  const raw = textIn.indexOf("'");
  if (raw !== -1) {
    const { line, column } = position(textIn, raw);
    throw invalid(`an apostrophe (') at line ${line}, column ${column}; NetBackup does not support an apostrophe anywhere in the endpoint details`);
  }

  for (const [s, where] of strings(value, 'the details')) {
    if (s.includes("'"))
      throw invalid(`an escaped apostrophe (\\u0027) in ${where}; NetBackup does not support an apostrophe anywhere in the endpoint details`);
  }

  const many = Array.isArray(value);
  const items: Json[] = Array.isArray(value) ? value : [value];
  if (many && items.length === 0) throw invalid('the array of endpoints is empty');
  if (items.length > MAX_ENDPOINTS) {
    throw invalid(
      `the array holds ${items.length} endpoints; at most ${MAX_ENDPOINTS} can be added at once`,
      `Split the details into files of at most ${MAX_ENDPOINTS} endpoints.`,
    );
  }

  const warnings: string[] = [];
  const endpoints: EndpointDetails[] = [];
  items.forEach((item, index) => {
    const label = many ? `endpoint ${index + 1}: ` : '';
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw invalid(`${label}the details must be a JSON object with token, priority, groupId, hostName and url (got ${describeValue(item)})`);
    }
    const read = readEndpoint(item);
    if ('problem' in read) throw invalid(`${label}${read.problem}`);
    const details = read.details;
    const parsed = parseWssUrl(details.url);
    const unknown = Object.keys(item).filter((k) => !(FIELDS as readonly string[]).includes(k));
    if (unknown.length > 0) warnings.push(`${label}ignoring unknown field${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`);
    if (!sameHost(details.hostName, urlHost(parsed))) {
      warnings.push(
        `${label}hostName ${details.hostName} differs from the host of the url (${urlHost(parsed)}); the certificate is fetched from the url (${maskUrl(details.url)})`,
      );
    }
    // The host as stored: its canonical form (lower case, no trailing dot, punycode, compressed IPv6).
    endpoints.push({ token: details.token, priority: details.priority, groupId: details.groupId, hostName: canonicalHost(details.hostName), url: details.url });
  });

  const seen = new Map<string, number>();
  endpoints.forEach((details, second) => {
    const first = seen.get(details.hostName);
    if (first !== undefined) throw invalid(`endpoints ${first + 1} and ${second + 1} both name the host ${details.hostName}; each hostName must be unique`);
    seen.set(details.hostName, second);
  });

  return { endpoints, warnings };
}

/** The token rules of the details file, for a token given on its own (nbwss token set). */
export function validateToken(token: string): void {
  if (token.includes("'"))
    throw invalid(
      "the token contains an apostrophe ('); NetBackup does not support an apostrophe anywhere in the endpoint details",
      'Ask the cloud provider for a token without an apostrophe.',
    );
  const problem = textProblem('token', token);
  if (problem) throw invalid(problem, `Give the token alone on standard input, for example: ${W.tokenSet('HOST')} < token.txt`);
}
