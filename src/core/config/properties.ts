import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseLines } from 'dot-properties';
import { NbwssError } from '../errors.js';
import { replaceFileAtomically, storeFileProblem } from '../store/fs.js';
import { withLock } from '../store/lock.js';
import { W } from '../hints.js';
import { AUTO_VERSION, isApiVersion } from '../api/version.js';

/** nbwss.properties in NBWSS_HOME: the guide's Table 2-4. */
export const PROPERTIES_FILE = 'nbwss.properties';
/** Held while nbwss.properties is read, changed and written. */
export const CONFIG_LOCK = 'config.lock';

interface Spec {
  type: 'boolean' | 'integer' | 'string';
  default: boolean | number | string;
  unit?: 'ms' | 's' | 'h' | 'bytes';
  min?: number;
  max?: number;
  /** For a string: why a value is not valid (undefined when it is). */
  check?: (value: string) => string | undefined;
  /** Not in the guide's Table 2-4: a property of nbwss's own. */
  nbwss?: true;
  description: string;
}

/** api.baseUrl: an https:// URL with a host and a path, nothing else (no user, query or fragment). */
export function checkBaseUrl(value: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return 'an https:// URL';
  }
  if (parsed.protocol !== 'https:') return 'an https:// URL (the REST service is reached over TLS only)';
  if (parsed.username || parsed.password) return 'a URL without user:password@';
  if (parsed.search || parsed.hash || value.includes('?') || value.includes('#')) return 'a URL without a query string or fragment';
  return undefined;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

/** metrics.listen: empty (off) or HOST:PORT, [IPv6]:PORT. */
export function parseListen(value: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):([0-9]{1,5})$/.exec(value);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: match[1] ?? match[2]!, port };
}

/** api.caFile: empty (none) or an absolute path. */
function checkCaFile(value: string): string | undefined {
  return value === '' || value.startsWith('/') ? undefined : 'an absolute path to a PEM file, or empty';
}

export const PROPERTY_SPECS = {
  'exception.ignoreDecoder': { type: 'boolean', default: false, description: 'ignore a message NBWSS cannot decode instead of closing the connection' },
  'notification.sendTimeout': {
    type: 'integer',
    default: 2000,
    unit: 'ms',
    min: 1,
    max: 600_000,
    description: 'how long a notification task waits to communicate with an endpoint',
  },
  'notification.scheduledRate': {
    type: 'integer',
    default: 5,
    unit: 's',
    min: 1,
    max: 86_400,
    description: 'how often to query for notifications, and to resend an unacknowledged one',
  },
  'keepAlive.scheduledRate': { type: 'integer', default: 30, unit: 's', min: 1, max: 86_400, description: 'how often a ping is sent to each endpoint' },
  'keepAlive.maxPongMissAllowed': { type: 'integer', default: 10, min: 1, max: 10_000, description: 'missed pongs in a row before the connection is closed' },
  'connectionInfo.period': {
    type: 'integer',
    default: 60,
    unit: 's',
    min: 1,
    max: 86_400,
    description: 'seconds between connection updates (connect new, drop removed endpoints)',
  },
  'scheduledExecutor.threadPoolSize': {
    type: 'integer',
    default: 1,
    min: 1,
    max: 64,
    description: 'threads that maintain connections and handle notifications',
  },
  'connect.timeout': {
    type: 'integer',
    default: 10_000,
    unit: 'ms',
    min: 100,
    max: 600_000,
    nbwss: true,
    description: 'how long to wait for the TLS handshake, the upgrade and the CONNECT RESPONSE',
  },
  'notification.maxQueued': {
    type: 'integer',
    default: 100_000,
    min: 1,
    max: 100_000_000,
    nbwss: true,
    description: 'notifications kept per server group while its cloud is away; beyond it nbwss notify refuses',
  },
  'api.baseUrl': {
    type: 'string',
    default: 'https://localhost:1556/netbackup',
    check: checkBaseUrl,
    nbwss: true,
    description: 'the NetBackup REST service a COMMAND REQUEST is sent to; its uri must lie under this path',
  },
  'api.caFile': {
    type: 'string',
    default: '',
    check: checkCaFile,
    nbwss: true,
    description: "PEM file of the CA that signed the REST service's certificate (else pin it: nbwss api pin)",
  },
  'api.timeout': {
    type: 'integer',
    default: 60_000,
    unit: 'ms',
    min: 100,
    max: 3_600_000,
    nbwss: true,
    description: 'how long a REST call may take before it is answered 504',
  },
  'api.maxBodyBytes': {
    type: 'integer',
    default: 16 * 1024 * 1024,
    unit: 'bytes',
    min: 1024,
    max: 512 * 1024 * 1024,
    nbwss: true,
    description: 'the largest REST response body passed back; a larger one is answered 413',
  },
  'log.level': {
    type: 'string',
    default: 'info',
    check: (v) => ((LOG_LEVELS as readonly string[]).includes(v) ? undefined : `one of ${LOG_LEVELS.join(', ')}`),
    nbwss: true,
    description: "the daemon's log level",
  },
  'log.format': {
    type: 'string',
    default: 'auto',
    check: (v) => (['auto', 'json', 'text'].includes(v) ? undefined : 'auto, json or text'),
    nbwss: true,
    description:
      "the daemon's log lines: json (one object per line), text (time, level, message, key=value), auto: text at a terminal, json in files and the journal",
  },
  'metrics.listen': {
    type: 'string',
    default: '',
    check: (v) => (v === '' || parseListen(v) ? undefined : 'HOST:PORT (e.g. 127.0.0.1:9477), or empty for off'),
    nbwss: true,
    description: 'where the daemon serves Prometheus metrics at /metrics (off when empty; loopback unless you name another address)',
  },
  'api.maxInFlight': {
    type: 'integer',
    default: 0,
    min: 0,
    max: 10_000,
    nbwss: true,
    description: 'REST calls in flight per connection, more wait in order (0: scheduledExecutor.threadPoolSize x 8)',
  },
  'api.maxQueued': {
    type: 'integer',
    default: 100,
    min: 0,
    max: 100_000,
    nbwss: true,
    description: 'COMMAND REQUESTs that may wait for a REST slot per connection; beyond it one is answered 503 NBWSS_BUSY at once',
  },
  'api.maxQueuedBytes': {
    type: 'integer',
    default: 16 * 1024 * 1024,
    unit: 'bytes',
    min: 0,
    max: 1024 * 1024 * 1024,
    nbwss: true,
    description: 'request bodies of the COMMANDs waiting per connection, in all; beyond it one is answered 503 NBWSS_BUSY at once',
  },
  'api.maxSendBuffer': {
    type: 'integer',
    default: 8 * 1024 * 1024,
    unit: 'bytes',
    min: 64 * 1024,
    max: 1024 * 1024 * 1024,
    nbwss: true,
    description: 'bytes not yet written to an endpoint above which no new REST call starts on its connection (back-pressure)',
  },
  'api.version': {
    type: 'string',
    default: AUTO_VERSION,
    check: (v) =>
      v === AUTO_VERSION || isApiVersion(v) ? undefined : 'auto, or a NetBackup API version such as 13.0 (NetBackup 11.0), 12.0 (10.5), 4.0 (8.3)',
    nbwss: true,
    description:
      "the NetBackup API version nbwss's own calls ask for (application/vnd.netbackup+json;version=…); auto: the newest the primary serves, found and remembered by nbwss",
  },
  'api.poll.jobs': {
    type: 'boolean',
    default: false,
    nbwss: true,
    description: "poll the primary's jobs (GET /admin/jobs) and notify QUEUED, ACTIVE and DONE (needs nbwss api key set or api login)",
  },
  'api.poll.images': {
    type: 'boolean',
    default: false,
    nbwss: true,
    description: "poll the primary's images (GET /catalog/images) and notify CREATE, UPDATE and DELETE",
  },
  'api.poll.imageWindow': {
    type: 'integer',
    default: 24,
    unit: 'h',
    min: 1,
    max: 87_600,
    nbwss: true,
    description: 'how far back (backup time) images are watched; older images are not seen to change or go',
  },
  'api.poll.maxJobStates': {
    type: 'integer',
    default: 100_000,
    min: 1_000,
    max: 10_000_000,
    nbwss: true,
    description: 'the most job states the poller keeps (to notify each state once); beyond it the least recently updated jobs are forgotten',
  },
  'api.poll.maxImages': {
    type: 'integer',
    default: 20_000,
    min: 100,
    max: 1_000_000,
    nbwss: true,
    description: 'the most images the poller watches and reads per poll (100 pages of 100); a larger window is listed in part and deletions are not looked for',
  },
} as const satisfies Record<string, Spec>;

export type PropertyKey = keyof typeof PROPERTY_SPECS;
type ValueOf<D> = D extends boolean ? boolean : D extends number ? number : string;
export type NbwssProperties = { [K in PropertyKey]: ValueOf<(typeof PROPERTY_SPECS)[K]['default']> };

export const PROPERTY_KEYS = Object.keys(PROPERTY_SPECS) as PropertyKey[];
export const isVendorKey = (k: string) => k.startsWith('hibernate.');

export interface PropertyView {
  key: string;
  value: string | number | boolean;
  /** False when the file holds a value that is not valid for the key (shown as written). */
  valid: boolean;
  default: string | number | boolean | null;
  set: boolean;
  vendorOnly: boolean;
  /** A property of nbwss's own, not in the guide's Table 2-4. */
  nbwss: boolean;
  unit: string | null;
  description: string;
}

function specOf(key: string): Spec {
  const spec = (PROPERTY_SPECS as Record<string, Spec>)[key];
  if (spec) return spec;
  if (isVendorKey(key)) {
    throw new NbwssError('USAGE', `${key} is a vendor-only property (the hibernate properties are for Veritas Support); nbwss keeps it as it is`, {
      hint: 'Edit it by hand only if Veritas Support asks you to.',
    });
  }
  const near = PROPERTY_KEYS.filter((k) => k.toLowerCase() === key.toLowerCase() || k.split('.')[1]!.toLowerCase() === key.split('.').pop()!.toLowerCase());
  throw new NbwssError('USAGE', `Unknown property ${key}`, {
    hint: `${near.length ? `Did you mean ${near.join(' or ')}? ` : ''}The properties are: ${PROPERTY_KEYS.join(', ')}.`,
  });
}

/** Parse a value by the property's type and range; a usage error that says what is allowed. */
export function parseValue(key: string, raw: string): boolean | number | string {
  const spec = specOf(key);
  const value = raw.trim();
  if (spec.type === 'string') {
    const why = spec.check?.(value);
    if (why)
      throw new NbwssError('USAGE', `${key} must be ${why}, not "${raw}"`, {
        hint: `Example: ${W.configSet(key, String(spec.default) || '/etc/nbwss/netbackup-ca.pem')}`,
      });
    return value;
  }
  if (spec.type === 'boolean') {
    if (/^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
    throw new NbwssError('USAGE', `${key} must be true or false, not "${raw}"`, { hint: `Example: ${W.configSet(key, 'false')}` });
  }
  const units = { ms: 'milliseconds', s: 'seconds', h: 'hours', bytes: 'bytes' } as const;
  const range = `a whole number${spec.unit ? ` of ${units[spec.unit]}` : ''} from ${spec.min} to ${spec.max}`;
  if (!/^[0-9]+$/.test(value))
    throw new NbwssError('USAGE', `${key} must be ${range}, not "${raw}"`, { hint: `Example: ${W.configSet(key, String(spec.default))}` });
  const number = Number(value);
  if (number < spec.min! || number > spec.max!)
    throw new NbwssError('USAGE', `${key} must be ${range}, not ${number}`, { hint: `The default is ${spec.default}.` });
  return number;
}

interface Parsed {
  text: string;
  pairs: { key: string; value: string; start: number; end: number }[];
}

function read(home: string): Parsed {
  const path = join(home, PROPERTIES_FILE);
  const unsafe = storeFileProblem(home, PROPERTIES_FILE);
  if (unsafe) throw unsafe;
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { text: '', pairs: [] };
    throw new NbwssError('STORE', `Cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  const pairs = parseLines(text, true)
    .filter((n): n is typeof n & { type: 'PAIR'; key: string; value: string } => n.type === 'PAIR')
    .map((node) => ({
      key: (node as unknown as { key: string }).key,
      value: (node as unknown as { value: string }).value,
      start: node.range[0],
      end: node.range[node.range.length - 1]!,
    }));
  return { text, pairs };
}

function write(home: string, text: string): void {
  const path = join(home, PROPERTIES_FILE);
  try {
    replaceFileAtomically(path, text);
  } catch (e) {
    throw new NbwssError('STORE', `Cannot write ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * The properties in force: the file's values over the defaults. A value in
 * the file that is not valid is an error naming the key (the daemon must not
 * guess); unknown and vendor keys are ignored.
 */
export function loadProperties(home: string): NbwssProperties {
  const out: Record<string, boolean | number | string> = {};
  for (const k of PROPERTY_KEYS) out[k] = PROPERTY_SPECS[k].default;
  for (const p of read(home).pairs) {
    if (!(p.key in PROPERTY_SPECS)) continue;
    try {
      out[p.key] = parseValue(p.key, p.value);
    } catch (e) {
      throw new NbwssError('STORE', `${join(home, PROPERTIES_FILE)}: ${(e as NbwssError).message}`, {
        hint: `Fix it with: ${W.configSet(p.key, 'VALUE')} (or ${W.configUnset(p.key)})`,
      });
    }
  }
  return out as NbwssProperties;
}

/** Every known property (value in force, default, set or not) and the vendor-only keys found in the file. */
export function listProperties(home: string): PropertyView[] {
  const { pairs } = read(home);
  const last = new Map(pairs.map((p) => [p.key, p.value]));
  const views: PropertyView[] = PROPERTY_KEYS.map((key) => {
    const spec: Spec = PROPERTY_SPECS[key];
    const raw = last.get(key);
    let value: string | boolean | number = spec.default;
    let valid = true;
    if (raw !== undefined) {
      try {
        value = parseValue(key, raw);
      } catch {
        value = raw; // shown as written, flagged invalid
        valid = false;
      }
    }
    return {
      key: key,
      value,
      valid,
      default: spec.default,
      set: raw !== undefined,
      vendorOnly: false,
      nbwss: spec.nbwss === true,
      unit: spec.unit ?? null,
      description: spec.description,
    };
  });
  for (const [k, v] of last)
    if (isVendorKey(k))
      views.push({
        key: k,
        value: v,
        valid: true,
        default: null,
        set: true,
        vendorOnly: true,
        nbwss: false,
        unit: null,
        description: 'for Veritas Support; kept as it is',
      });
  return views;
}

export function getProperty(home: string, key: string): PropertyView {
  specOf(key);
  return listProperties(home).find((v) => v.key === key)!;
}

/**
 * Set a property, keeping the file's comments, order and other keys byte for
 * byte: the value of its last occurrence is replaced in place, or the line is
 * appended. The file is untouched if the value is not valid.
 */
export function setProperty(home: string, key: string, raw: string): boolean | number | string {
  const value = parseValue(key, raw);
  // Read, change and write under a lock: concurrent sets of different keys all land.
  return withLock(join(home, CONFIG_LOCK), () => {
    const { text, pairs } = read(home);
    const at = pairs.filter((p) => p.key === key).pop();
    let next: string;
    if (at) {
      next = `${text.slice(0, at.start)}${key}=${value}${text.slice(at.end)}`;
    } else {
      const header = text === '' ? '#Properties file for NetBackup WebSocket Service\n' : '';
      next = `${text}${text !== '' && !text.endsWith('\n') ? '\n' : ''}${header}${key}=${value}\n`;
    }
    write(home, next);
    return value;
  });
}

/** Remove every occurrence of a property (its default is then in force). Returns whether it was set. */
export function unsetProperty(home: string, key: string): boolean {
  specOf(key);
  if (!existsSync(home)) return false;
  return withLock(join(home, CONFIG_LOCK), () => {
    const { text, pairs } = read(home);
    const hits = pairs.filter((p) => p.key === key);
    if (hits.length === 0) return false;
    let next = text;
    for (const p of [...hits].reverse()) {
      const lineStart = next.lastIndexOf('\n', p.start - 1) + 1;
      let lineEnd = next.indexOf('\n', p.end);
      lineEnd = lineEnd === -1 ? next.length : lineEnd + 1;
      next = next.slice(0, lineStart) + next.slice(lineEnd);
    }
    write(home, next);
    return true;
  });
}
