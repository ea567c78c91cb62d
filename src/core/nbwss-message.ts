import { randomUUID } from 'node:crypto';

/** The NBWSS message envelope (guide: "NBWSS message formats", Table 1-3). */
export interface NbwssMessage {
  version: string;
  id: string;
  type: 'CONNECT' | 'COMMAND' | 'NOTIFICATION';
  subType: 'REQUEST' | 'RESPONSE';
  timeStamp: number;
  payload: unknown;
}

const TYPES = new Set(['CONNECT', 'COMMAND', 'NOTIFICATION']);
const SUBTYPES = new Set(['REQUEST', 'RESPONSE']);

export const epochSeconds = (d = new Date()) => Math.floor(d.getTime() / 1000);

export function connectRequest(token: string, now = new Date()): NbwssMessage {
  return { version: '1.0', id: randomUUID().toUpperCase(), type: 'CONNECT', subType: 'REQUEST', timeStamp: epochSeconds(now), payload: { token } };
}

/**
 * Decode one text frame. Returns the message, or why it is not a valid NBWSS
 * message (the guide's "decoder exception"): not JSON, unknown type or
 * subType, no id, a payload of the wrong shape (an object for CONNECT and
 * COMMAND, an array for NOTIFICATION).
 */
export function decodeMessage(text: string): { ok: true; message: NbwssMessage } | { ok: false; reason: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { ok: false, reason: 'not a JSON object' };
  const fields = parsed as Record<string, unknown>;
  if (typeof fields.id !== 'string' || fields.id === '') return { ok: false, reason: 'missing id' };
  if (typeof fields.version !== 'string') return { ok: false, reason: 'missing version' };
  if (typeof fields.type !== 'string' || !TYPES.has(fields.type)) return { ok: false, reason: `unknown type ${JSON.stringify(fields.type)}` };
  if (typeof fields.subType !== 'string' || !SUBTYPES.has(fields.subType)) return { ok: false, reason: `unknown subType ${JSON.stringify(fields.subType)}` };
  if (fields.timeStamp !== undefined && typeof fields.timeStamp !== 'number') return { ok: false, reason: 'timeStamp is not a number' };
  const wantArray = fields.type === 'NOTIFICATION';
  const payload = fields.payload;
  if (wantArray ? !Array.isArray(payload) : payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    return { ok: false, reason: `payload of a ${fields.type} message must be ${wantArray ? 'an array' : 'an object'}` };
  }
  return { ok: true, message: fields as unknown as NbwssMessage };
}
