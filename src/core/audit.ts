import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';

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
export function appendAudit(home: string, e: Omit<AuditEntry, 'time' | 'user' | 'pid'>, now = new Date()): void {
  if (!existsSync(home)) return;
  const line = JSON.stringify({ time: now.toISOString(), user: osUser(), pid: process.pid, ...e });
  appendFileSync(join(home, AUDIT_FILE), `${line}\n`, { mode: 0o600 });
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
