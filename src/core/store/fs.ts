import { SERVICE_ACCOUNT } from '../config/paths.js';
import {
  chmodSync,
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  type Stats,
  writeSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { userInfo } from 'node:os';
import { NbwssError } from '../errors.js';
import { W } from '../hints.js';

/**
 * The store's ownership rule, like sshd's StrictModes: NBWSS_HOME and every
 * file nbwss opens in it belong to the effective user (root uses a
 * root-owned store only) and are not writable by group or others; so are the
 * directory's parents, up to the first one root owns. A store someone else
 * controls could swap nbwss.db (and have a token sent to their endpoint) or
 * plant links that make nbwss write where it should not.
 */

/** The files nbwss keeps in a store directory (daemon.sock is checked by the daemon itself). */
export const STORE_FILES = [
  'nbwss.db',
  'nbwss.db-wal',
  'nbwss.db-shm',
  'nbwss.db-journal',
  'secrets.enc',
  'secrets.lock',
  'audit.log',
  'nbwss.properties',
  'config.lock',
  'daemon.lock',
  'daemon.pid',
  'logs',
  'logs/nbwss.log',
] as const;

const euid = () => process.geteuid?.() ?? -1;

function ownerName(uid: number): string {
  if (uid === euid()) {
    try {
      return userInfo().username;
    } catch {
      /* no passwd entry */
    }
  }
  return `uid ${uid}`;
}

/** The uid of the package's service account, from /etc/passwd (read only when an ownership problem is being told). */
function serviceAccountUid(): number | undefined {
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${SERVICE_ACCOUNT}:`));
    return line ? Number(line.split(':')[2]) : undefined;
  } catch {
    return undefined;
  }
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

function unsafe(path: string, why: string, fix: string): NbwssError {
  return new NbwssError('STORE', `Refusing to use ${path}: ${why}`, { hint: fix });
}

/** What is wrong with one path under the rule, or undefined when it is fine (or absent). */
export function ownershipProblem(path: string, kind: 'dir' | 'file' | 'socket' = 'file'): NbwssError | undefined {
  if (euid() === -1) return undefined; // no uids on this platform
  const st = lstatOrUndefined(path);
  if (!st) return undefined;
  const me = ownerName(euid());
  if (st.isSymbolicLink()) return unsafe(path, 'it is a symbolic link', `Remove the link (rm ${path}); nbwss creates its own file there.`);
  if (kind === 'dir' && !st.isDirectory()) return unsafe(path, 'it is not a directory', `Point ${W.home} or ${W.homeVar} at a directory.`);
  if (kind === 'file' && !st.isFile() && !st.isDirectory()) return unsafe(path, 'it is not a regular file', `Remove it (rm ${path}).`);
  if (st.uid !== euid()) {
    return unsafe(
      path,
      `it is owned by ${ownerName(st.uid)}, not by ${me} who runs nbwss${euid() === 0 ? ' (root uses a root-owned store only)' : ''}`,
      st.uid === serviceAccountUid() && me !== SERVICE_ACCOUNT
        ? `It is the store of the packaged nbwss service: run nbwss as its account, e.g. sudo -u ${SERVICE_ACCOUNT} nbwss list`
        : `If it is yours: chown ${me} ${path}. Otherwise use a store of your own (${W.home}).`,
    );
  }
  if (st.mode & 0o022)
    return unsafe(path, `group or others may write to it (mode ${(st.mode & 0o7777).toString(8)})`, `chmod go-w ${path} (${W.doctorFix} does it)`);
  return undefined;
}

/**
 * The store directory's parents: each owned by us or by root, none writable
 * by group or others unless sticky (as /tmp is: nobody may rename what is
 * not theirs there). For a user the walk ends at the first directory root
 * owns; for root it goes up to /.
 */
export function parentsProblem(dir: string): NbwssError | undefined {
  if (euid() === -1) return undefined;
  for (let p = dirname(resolve(dir)); ; p = dirname(p)) {
    const st = lstatOrUndefined(p);
    if (st) {
      if (st.uid !== euid() && st.uid !== 0)
        return unsafe(dir, `its parent ${p} is owned by ${ownerName(st.uid)}`, `Use a store whose parent directories belong to you or to root (${W.home}).`);
      if (st.mode & 0o022 && !(st.mode & 0o1000))
        return unsafe(dir, `its parent ${p} may be written by group or others (mode ${(st.mode & 0o7777).toString(8)})`, `chmod go-w ${p}`);
      if (st.uid === 0 && euid() !== 0) return undefined;
    }
    if (dirname(p) === p) return undefined;
  }
}

/** The rule for one file of a store and the directory holding it (for files read without opening the store). */
export function storeFileProblem(home: string, file: string): NbwssError | undefined {
  if (!lstatOrUndefined(home)) return undefined;
  return ownershipProblem(home, 'dir') ?? parentsProblem(home) ?? ownershipProblem(join(home, file));
}

/** Every problem of a store directory, its parents and its files (for doctor); none for a directory that does not exist. */
export function storeOwnershipProblems(home: string): NbwssError[] {
  const out: NbwssError[] = [];
  const dir = ownershipProblem(home, 'dir');
  if (dir) return [dir];
  if (!lstatOrUndefined(home)) return [];
  const parents = parentsProblem(home);
  if (parents) out.push(parents);
  for (const f of STORE_FILES) {
    const problem = ownershipProblem(join(home, f), f === 'logs' ? 'dir' : 'file');
    if (problem) out.push(problem);
  }
  return out;
}

/** Throw the first ownership problem of a store (exit 8 naming path, owner and fix). */
export function assertStoreOwnership(home: string): void {
  const [first] = storeOwnershipProblems(home);
  if (first) throw first;
}

/** Create the store directory 0700 (tightening one of ours that is looser), then hold it to the ownership rule. */
export function ensurePrivateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new NbwssError('STORE', `Cannot create the store directory ${dir}: ${(e as Error).message}`, {
      hint: `Choose a writable directory with ${W.home} or ${W.homeVar}.`,
      cause: e,
    });
  }
  const st = lstatSync(dir);
  if (st.isDirectory() && st.uid === euid() && (st.mode & 0o077) !== 0) chmodPrivate(dir, 0o700);
  assertStoreOwnership(dir);
}

/**
 * chmod a file or directory of ours, never the target of a link: a link is
 * refused. Not through a descriptor: opening and closing a descriptor on a
 * SQLite database drops that process's POSIX locks on it (and corrupts it
 * under concurrency). The path is safe to use because the directory holding
 * it is ours and nobody else may write to it (the ownership rule, checked
 * first).
 */
export function chmodPrivate(path: string, mode: number): void {
  const st = lstatOrUndefined(path);
  if (!st) return;
  if (st.isSymbolicLink()) throw unsafe(path, 'it is a symbolic link', `Remove the link (rm ${path}).`);
  if (st.uid === euid() && (st.mode & 0o777) !== mode) chmodSync(path, mode);
}

/** Make a file 0600 if it exists (SQLite creates its files with the umask); links are refused, not followed. */
export function tightenFile(path: string): void {
  chmodPrivate(path, 0o600);
}

/**
 * Read a small private file exactly: a regular file owned by the effective
 * user, not readable by others, read through a descriptor with a bound (a
 * device such as /dev/zero is refused, not read forever).
 */
export function readPrivateFile(path: string, maxBytes: number): Buffer {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw unsafe(path, 'it is not a regular file', 'Point it at the 32-byte key file nbwss created.');
    if (euid() !== -1 && st.uid !== euid())
      throw unsafe(path, `it is owned by ${ownerName(st.uid)}, not by ${ownerName(euid())}`, `chown ${ownerName(euid())} ${path}, or use your own key file.`);
    if (st.mode & 0o077) throw unsafe(path, `group or others may read it (mode ${(st.mode & 0o7777).toString(8)})`, `chmod 600 ${path}`);
    const buf = Buffer.alloc(maxBytes + 1);
    let filled = 0;
    while (filled <= maxBytes) {
      const read = readSync(fd, buf, filled, maxBytes + 1 - filled, null);
      if (read === 0) break;
      filled += read;
    }
    return buf.subarray(0, filled);
  } finally {
    closeSync(fd);
  }
}

/** Write a new private file (0600) and fsync it; fails if the path exists. */
export function writeNewFileDurably(path: string, data: Buffer | string): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replace a file atomically: a private temporary file beside it, written and
 * fsynced, then renamed over it (a reader sees the old file or the new one,
 * never half of one). The temporary file is removed if anything fails.
 */
export function replaceFileAtomically(path: string, data: Buffer | string): void {
  const tmp = `${path}.${process.pid}.${process.getBuiltinModule('node:crypto').randomBytes(4).toString('hex')}.tmp`;
  try {
    writeNewFileDurably(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
