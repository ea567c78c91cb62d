import { closeSync, constants, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { ownershipProblem } from './store/fs.js';
import { safeText } from './text.js';

/** One line of NBWSS_HOME/audit.log: who changed what, and how it ended. Never a token or a URL's query string. */
export interface AuditEntry {
  time: string;
  user: string;
  pid: number;
  command: string;
  hosts: string[];
  detail?: string;
  outcome: 'ok' | 'error';
  error?: { code: string; message: string };
}

export const AUDIT_FILE = 'audit.log';

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid:${process.getuid?.() ?? '?'}`;
  }
}

/**
 * Append one JSON line. One write(2) with O_APPEND per line keeps lines whole
 * when runs append at once. Only into an existing store directory.
 */
export function appendAudit(home: string, entry: Omit<AuditEntry, 'time' | 'user' | 'pid'>, now = new Date()): void {
  if (!existsSync(home)) return;
  const path = join(home, AUDIT_FILE);
  const unsafe = ownershipProblem(home, 'dir') ?? ownershipProblem(path);
  if (unsafe) throw unsafe;
  // Text from outside (a host typed, an error quoting a details file) is escaped: history replays it on a terminal.
  const line = JSON.stringify({ time: now.toISOString(), user: osUser(), pid: process.pid, ...entry }, (_k, v: unknown) =>
    typeof v === 'string' ? safeText(v) : v,
  );
  // O_NOFOLLOW: never append to what a planted link points at.
  const fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, `${line}\n`);
  } finally {
    closeSync(fd);
  }
}

/** The audit log, oldest first; unreadable lines are skipped. */
export function readAudit(home: string): AuditEntry[] {
  let text: string;
  try {
    text = readFileSync(join(home, AUDIT_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: AuditEntry[] = [];
  for (const l of text.split('\n')) {
    if (!l.trim()) continue;
    try {
      out.push(JSON.parse(l) as AuditEntry);
    } catch {
      /* a torn line from a crash: skip */
    }
  }
  return out;
}
