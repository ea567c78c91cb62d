import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { NbwssError } from '../errors.js';

/** Create the store directory 0700 (and tighten it if it exists looser). */
export function ensurePrivateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = statSync(dir);
    if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
    if ((st.mode & 0o077) !== 0 && st.uid === process.getuid?.()) chmodSync(dir, 0o700);
  } catch (e) {
    throw new NbwssError('STORE', `Cannot create the store directory ${dir}: ${(e as Error).message}`, {
      hint: 'Choose a writable directory with --home or NBWSS_HOME.',
      cause: e,
    });
  }
}

/** Make a file 0600 if it exists (SQLite creates its files with the umask). */
export function tightenFile(path: string): void {
  try {
    chmodSync(path, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
