import { Writable } from 'node:stream';
import { safeText } from '../core/text.js';

/** pino's numeric levels, as a person reads them. */
const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields every line has (said in the line's head) or that only a machine wants. */
const HEAD = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

/**
 * One JSON log line (pino's) as a line for `tail -f` and a terminal:
 * `2026-12-02T09:40:01Z INFO  connected host=ep1.test group=sg1`. Values are
 * text from outside at times (a close reason): shown through the one
 * sanitiser; strings with spaces are quoted. A line that is not JSON passes.
 */
export function textLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return safeText(json);
  }
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().replace(/\.\d{3}Z$/, 'Z') : '';
  const level = (LEVELS[entry.level as number] ?? String(entry.level)).padEnd(5);
  const fields = Object.entries(entry)
    .filter(([k, v]) => !HEAD.has(k) && v !== undefined)
    .map(([key, value]) => {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      return `${key}=${typeof value === 'string' && /[\s"=]/.test(text) ? JSON.stringify(text) : text}`;
    });
  return safeText([time, level, String(entry.msg ?? ''), ...fields].filter((x) => x !== '').join(' '));
}

/** A stream that writes each JSON line it is given to `dest` as a text line. */
export function textStream(dest: NodeJS.WritableStream): Writable {
  let rest = '';
  return new Writable({
    write(chunk: Buffer | string, _enc, done) {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      const out = lines.filter((l) => l !== '').map((l) => `${textLine(l)}\n`);
      if (out.length) dest.write(out.join(''));
      done();
    },
  });
}
