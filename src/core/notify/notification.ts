import { NbwssError } from '../errors.js';

/**
 * Notifications as `nbwss notify` takes them, and NOTIFICATION REQUEST
 * payloads as the daemon sends them (guide: "NBWSS notifications",
 * "Examples of NBWSS messages"). Pure: no store, no network.
 */

export type NotificationObject = 'JOB' | 'IMAGE';

/** One notification: one data element of a JOB or IMAGE notification object, as JSON text (its fields in the order given). */
export interface Notification {
  object: NotificationObject;
  data: string;
}

type FieldKind = 'int' | 'uint' | 'string' | 'name' | readonly string[];

/** The guide's fields; every one is required (NetBackup sends them all), more fields pass through. */
export const FIELDS: Record<NotificationObject, Record<string, FieldKind>> = {
  JOB: {
    jobId: 'uint',
    parentJobId: 'uint',
    jobType: 'name',
    state: ['QUEUED', 'ACTIVE', 'DONE'],
    status: 'int',
    startTime: 'uint',
    policyName: 'string',
    policyType: 'name',
    scheduleType: 'name',
    clientName: 'name',
  },
  IMAGE: {
    backupId: 'name',
    clientName: 'name',
    clientType: 'name',
    backupTime: 'uint',
    createdTime: 'uint',
    operationId: ['CREATE', 'UPDATE', 'DELETE', 'NO_LOCAL_COPY_AVAILABLE'],
  },
};

/** One data element serialized is at most this long: a batch of them must fit the cloud's messages. */
export const MAX_ELEMENT_BYTES = 16 * 1024;
/** What `nbwss notify` reads at most. */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;

const EXAMPLE = `{"object": "JOB", "data": {"jobId": 146, "parentJobId": 145, "jobType": "BACKUP", "state": "DONE", "status": 0, "startTime": 1459829698, "policyName": "vmware2", "policyType": "VMWARE", "scheduleType": "ST_FULL", "clientName": "DummyTestVM"}}`;

function invalid(where: string, what: string): NbwssError {
  return new NbwssError('INVALID_DETAILS', `${where}: ${what}; nothing was queued`, {
    hint: `Each notification is {"object": "JOB"|"IMAGE", "data": {…}} (one object, an array, or one per line), for example:\n  ${EXAMPLE}`,
  });
}

function kindText(kind: FieldKind): string {
  if (Array.isArray(kind)) return `one of ${kind.join(', ')}`;
  return { int: 'a whole number', uint: 'a whole number, 0 or more', string: 'a string', name: 'a non-empty string' }[kind as string]!;
}

function fits(kind: FieldKind, value: unknown): boolean {
  if (Array.isArray(kind)) return typeof value === 'string' && kind.includes(value);
  if (kind === 'int') return Number.isSafeInteger(value);
  if (kind === 'uint') return Number.isSafeInteger(value) && (value as number) >= 0;
  if (kind === 'string') return typeof value === 'string';
  return typeof value === 'string' && value.trim() !== '';
}

const shown = (value: unknown) => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
};

/** Check one data element of an object type; returns it as JSON text. */
export function checkData(object: NotificationObject, data: unknown, where: string): string {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw invalid(where, 'data must be an object of the notification fields');
  const fields = data as Record<string, unknown>;
  for (const [field, kind] of Object.entries(FIELDS[object])) {
    if (!(field in fields)) throw invalid(where, `data.${field} is missing (a ${object} notification has ${Object.keys(FIELDS[object]).join(', ')})`);
    if (!fits(kind, fields[field])) throw invalid(where, `data.${field} must be ${kindText(kind)}, not ${shown(fields[field])}`);
  }
  const text = JSON.stringify(fields);
  if (Buffer.byteLength(text) > MAX_ELEMENT_BYTES) throw invalid(where, `data is ${Buffer.byteLength(text)} bytes, more than ${MAX_ELEMENT_BYTES}`);
  return text;
}

/** One input element: {object, data} with data an object or (as in the guide's payloads) an array of them. */
function checkElement(err: unknown, where: string): Notification[] {
  if (err === null || typeof err !== 'object' || Array.isArray(err)) throw invalid(where, 'a notification must be an object {"object": …, "data": …}');
  const fields = err as Record<string, unknown>;
  if (fields.object !== 'JOB' && fields.object !== 'IMAGE') throw invalid(where, `object must be "JOB" or "IMAGE", not ${shown(fields.object)}`);
  if (fields.notificationType !== undefined && fields.notificationType !== 'INFO')
    throw invalid(where, `notificationType must be "INFO" (the only type in this release), not ${shown(fields.notificationType)}`);
  const object = fields.object;
  if (Array.isArray(fields.data)) {
    if (fields.data.length === 0) throw invalid(where, 'data is an empty array');
    return fields.data.map((d, i) => ({ object, data: checkData(object, d, `${where}, data[${i}]`) }));
  }
  return [{ object, data: checkData(object, fields.data, where) }];
}

/** How deep the JSON of `nbwss notify` may nest (a notification's own fields are two deep). */
export const MAX_DEPTH = 32;

/**
 * What JSON.parse would not carry faithfully, found in the text before it is
 * parsed: nesting deeper than MAX_DEPTH, and numbers a JSON number cannot
 * hold exactly (an integer beyond ±2^53, anything beyond the double range).
 * Strings are skipped as written; undefined when the text is fine (or not
 * JSON at all: JSON.parse says that).
 */
export function jsonProblem(text: string): string | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22) {
      // A string: to its closing quote, escapes skipped.
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
    } else if (code === 0x5b || code === 0x7b) {
      if (++depth > MAX_DEPTH) return `nested more than ${MAX_DEPTH} deep`;
    } else if (code === 0x5d || code === 0x7d) depth--;
    else if (code === 0x2d || (code >= 0x30 && code <= 0x39)) {
      const match = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
      if (!match) continue;
      const literal = match[0];
      const number = Number(literal);
      if (!Number.isFinite(number)) return `the number ${literal.slice(0, 40)} is beyond what a JSON number holds: send it as a string`;
      if (!match[1] && !match[2] && !Number.isSafeInteger(number))
        return `the number ${literal.slice(0, 40)} is larger than a JSON number holds exactly (2^53): send it as a string`;
      i += literal.length - 1;
    }
  }
  return undefined;
}

/** JSON.parse, once the text is known to parse faithfully. */
function parseFaithfully(text: string, where: string): unknown {
  const value = JSON.parse(text) as unknown;
  const problem = jsonProblem(text);
  if (problem) throw invalid(where, problem);
  return value;
}

/**
 * Parse what `nbwss notify` reads: one notification object, a JSON array of
 * them, or JSON lines. Every element is checked; the first problem is an
 * error naming the element (and line) and field, and nothing is returned.
 */
export function parseNotifications(text: string): Notification[] {
  if (Buffer.byteLength(text) > MAX_INPUT_BYTES) throw invalid('input', `more than ${MAX_INPUT_BYTES} bytes`);
  const trimmed = text.trim();
  if (trimmed === '') throw invalid('input', 'no notification given');
  let whole: unknown;
  let parsed = false;
  try {
    whole = JSON.parse(trimmed);
    parsed = true;
  } catch {
    /* JSON lines, or not JSON */
  }
  if (parsed) {
    const problem = jsonProblem(trimmed);
    if (problem) throw invalid('input', problem);
  }
  if (parsed) {
    if (Array.isArray(whole)) {
      if (whole.length === 0) throw invalid('input', 'an empty array');
      return whole.flatMap((e, i) => checkElement(e, `element ${i + 1}`));
    }
    return checkElement(whole, 'the notification');
  }
  const out: Notification[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let parsed: unknown;
    try {
      parsed = parseFaithfully(line, `line ${i + 1}`);
    } catch (err) {
      if (err instanceof NbwssError) throw err;
      throw invalid(`line ${i + 1}`, `not valid JSON (${(err as Error).message.slice(0, 80)})`);
    }
    out.push(...checkElement(parsed, `line ${i + 1}`));
  }
  return out;
}

export interface BatchLimits {
  maxElements: number;
  maxBytes: number;
}

/** A NOTIFICATION REQUEST holds at most 100 data elements and about 256 KiB. */
export const BATCH_LIMITS: BatchLimits = { maxElements: 100, maxBytes: 256 * 1024 };

/**
 * The payload of one NOTIFICATION REQUEST from pending notifications in
 * order: one payload element per object type, as the guide batches them.
 * Order is kept exactly: the batch ends before a notification whose type
 * would have to join an earlier element (JOB, IMAGE, JOB → two messages).
 * Always takes at least one. Returns the payload as JSON text and how many
 * were taken.
 */
export function buildPayload(pending: readonly Notification[], limits: BatchLimits = BATCH_LIMITS): { payload: string; taken: number } {
  const elements: { object: NotificationObject; data: string[] }[] = [];
  let bytes = 2;
  let taken = 0;
  for (const n of pending) {
    if (taken === limits.maxElements) break;
    const last = elements.at(-1);
    const joins = last?.object === n.object;
    if (!joins && elements.some((e) => e.object === n.object)) break;
    const cost = n.data.length + 1 + (joins ? 0 : 48);
    if (taken > 0 && bytes + cost > limits.maxBytes) break;
    if (joins) last!.data.push(n.data);
    else elements.push({ object: n.object, data: [n.data] });
    bytes += cost;
    taken++;
  }
  const payload = `[${elements.map((e) => `{"notificationType":"INFO","object":"${e.object}","data":[${e.data.join(',')}]}`).join(',')}]`;
  return { payload, taken };
}
