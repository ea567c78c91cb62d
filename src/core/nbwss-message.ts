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
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return { ok: false, reason: 'not a JSON object' };
  const o = m as Record<string, unknown>;
  if (typeof o.id !== 'string' || o.id === '') return { ok: false, reason: 'missing id' };
  if (typeof o.version !== 'string') return { ok: false, reason: 'missing version' };
  if (typeof o.type !== 'string' || !TYPES.has(o.type)) return { ok: false, reason: `unknown type ${JSON.stringify(o.type)}` };
  if (typeof o.subType !== 'string' || !SUBTYPES.has(o.subType)) return { ok: false, reason: `unknown subType ${JSON.stringify(o.subType)}` };
  if (o.timeStamp !== undefined && typeof o.timeStamp !== 'number') return { ok: false, reason: 'timeStamp is not a number' };
  const wantArray = o.type === 'NOTIFICATION';
  const p = o.payload;
  if (wantArray ? !Array.isArray(p) : p === null || typeof p !== 'object' || Array.isArray(p)) {
    return { ok: false, reason: `payload of a ${o.type} message must be ${wantArray ? 'an array' : 'an object'}` };
  }
  return { ok: true, message: o as unknown as NbwssMessage };
}
