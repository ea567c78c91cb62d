import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { NbwssError } from '../errors.js';
import type { SecretStore } from './types.js';
import { readPrivateFile, replaceFileAtomically, writeNewFileDurably } from '../store/fs.js';
import { withLock } from '../store/lock.js';
import { W } from '../hints.js';

export const SECRETS_FILE = 'secrets.enc';
export const LOCK_FILE = 'secrets.lock';
const MAGIC = Buffer.from('NBWSSv1\0', 'latin1');

/**
 * Tokens in one AES-256-GCM encrypted file in NBWSS_HOME; the 32-byte key in
 * a separate 0600 file. Every read-modify-write holds a cross-process lock
 * (an exclusive SQLite transaction on secrets.lock: the kernel drops it when
 * a process dies, so a killed run never leaves a stale lock) and replaces the
 * file atomically (write, fsync, rename).
 */
export class FileSecretStore implements SecretStore {
  readonly name = 'file' as const;
  readonly path: string;
  private readonly lockPath: string;

  constructor(
    readonly home: string,
    readonly keyFile: string,
    private readonly busyTimeoutMs = 30_000,
  ) {
    this.path = join(home, SECRETS_FILE);
    this.lockPath = join(home, LOCK_FILE);
  }

  /** The key is there (created on first use unless `create` is false) and opens the secrets file. */
  probe(opts: { create?: boolean } = {}): void {
    if (opts.create === false) {
      const key = this.key(false);
      if (!key) {
        throw new NbwssError('STORE', `The secret key file ${this.keyFile} is missing`, {
          hint: existsSync(this.path)
            ? `Restore it from your backup (or point ${W.keyFileVar} at it); without it the stored tokens cannot be read.`
            : 'It is created by the first add that stores a token.',
        });
      }
      this.read(key);
      return;
    }
    this.locked(() => this.read(this.key(true)));
  }

  get(account: string): string | undefined {
    return this.read(this.key(false))[account];
  }

  getMany(accounts: Iterable<string>): Map<string, string | undefined> {
    const all = this.read(this.key(false));
    return new Map(Array.from(accounts, (a) => [a, all[a]]));
  }

  set(account: string, secret: string): void {
    this.locked(() => {
      const key = this.key(true)!;
      const all: Record<string, string> = Object.assign(Object.create(null), this.read(key));
      all[account] = secret;
      this.write(key, all);
    });
  }

  delete(account: string): boolean {
    return this.locked(() => {
      const key = this.key(false);
      const all: Record<string, string> = Object.assign(Object.create(null), this.read(key));
      if (!(account in all)) return false;
      delete all[account];
      this.write(key!, all);
      return true;
    });
  }

  putAll(changes: ReadonlyMap<string, string | undefined>): void {
    if (changes.size === 0) return;
    this.locked(() => {
      const creates = [...changes.values()].some((v) => v !== undefined);
      const key = this.key(creates);
      const all: Record<string, string> = Object.assign(Object.create(null), this.read(key));
      let changed = false;
      for (const [account, secret] of changes) {
        if (secret === undefined) {
          if (account in all) {
            delete all[account];
            changed = true;
          }
        } else if (all[account] !== secret) {
          all[account] = secret;
          changed = true;
        }
      }
      if (changed) this.write(key!, all);
    });
  }

  accounts(): string[] {
    return Object.keys(this.read(this.key(false)));
  }

  private locked<T>(fn: () => T): T {
    return withLock(this.lockPath, fn, this.busyTimeoutMs);
  }

  /** The key; created (under the lock) when `create` and missing. (The database secret store of a shared store uses the same key file.) */
  key(create: boolean): Buffer | undefined {
    let raw: Buffer;
    try {
      // A regular file of ours, 0600, read with a bound: /dev/zero or a link is refused, not read forever.
      raw = readPrivateFile(this.keyFile, 32);
    } catch (e) {
      if (e instanceof NbwssError) throw e;
      if ((e as NodeJS.ErrnoException).code === 'ELOOP')
        throw new NbwssError('STORE', `Refusing to use ${this.keyFile}: it is a symbolic link`, {
          hint: `Point ${W.keyFileVar} at the key file itself.`,
        });
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(`Cannot read the secret key file ${this.keyFile}`, e);
      if (!create) return undefined;
      return this.createKey();
    }
    if (raw.length !== 32) {
      throw new NbwssError('STORE', `The secret key file ${this.keyFile} is not a 32-byte key`, {
        hint: 'Restore the key file from your backup; without it the stored tokens cannot be read.',
      });
    }
    return raw;
  }

  private createKey(): Buffer {
    const key = randomBytes(32);
    try {
      mkdirSync(dirname(this.keyFile), { recursive: true, mode: 0o700 });
      // Write to a private temp file, then link(): atomic, and fails if another run won the race.
      const tmp = `${this.keyFile}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      writeNewFileDurably(tmp, key);
      try {
        linkSync(tmp, this.keyFile);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      } finally {
        unlinkSync(tmp);
      }
    } catch (e) {
      throw fileError(`Cannot create the secret key file ${this.keyFile}`, e);
    }
    return readPrivateFile(this.keyFile, 32);
  }

  /** The last decrypted contents, valid while the file is the same one (atomic renames change the inode). */
  private cache: { ino: number; mtimeMs: number; size: number; key: Buffer; secrets: Readonly<Record<string, string>> } | undefined;

  /** The tokens, read-only (the cached object): copy before changing. */
  private read(key: Buffer | undefined): Readonly<Record<string, string>> {
    let blob: Buffer;
    let st: { ino: number; mtimeMs: number; size: number };
    try {
      st = statSync(this.path);
      const cached = this.cache;
      if (cached && key && cached.ino === st.ino && cached.mtimeMs === st.mtimeMs && cached.size === st.size && cached.key.equals(key)) return cached.secrets;
      blob = readFileSync(this.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return Object.create(null);
      throw fileError(`Cannot read ${this.path}`, e);
    }
    if (!key) {
      throw new NbwssError('STORE', `The secret key file ${this.keyFile} is missing, so ${this.path} cannot be read`, {
        hint: `Restore the key file, or point ${W.keyFileVar} at it.`,
      });
    }
    try {
      if (!blob.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error('unknown file format');
      const iv = blob.subarray(MAGIC.length, MAGIC.length + 12);
      const tag = blob.subarray(MAGIC.length + 12, MAGIC.length + 28);
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(MAGIC);
      decipher.setAuthTag(tag);
      const plain = Buffer.concat([decipher.update(blob.subarray(MAGIC.length + 28)), decipher.final()]);
      const parsed = JSON.parse(plain.toString('utf8')) as { v: number; secrets: Record<string, string> };
      const secrets = Object.freeze(Object.assign(Object.create(null), parsed.secrets) as Record<string, string>);
      this.cache = { ino: st.ino, mtimeMs: st.mtimeMs, size: st.size, key, secrets };
      return secrets;
    } catch (e) {
      throw new NbwssError('STORE', `${this.path} cannot be decrypted with the key in ${this.keyFile}`, {
        hint: 'The key file does not belong to this store, or the file was altered. Restore both from the same backup.',
        cause: e,
      });
    }
  }

  private write(key: Buffer, secrets: Record<string, string>): void {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(MAGIC);
    const ct = Buffer.concat([cipher.update(JSON.stringify({ v: 1, secrets }), 'utf8'), cipher.final()]);
    try {
      replaceFileAtomically(this.path, Buffer.concat([MAGIC, iv, cipher.getAuthTag(), ct]));
    } catch (e) {
      throw fileError(`Cannot write ${this.path}`, e);
    }
  }
}

function fileError(what: string, err: unknown): NbwssError {
  return new NbwssError('STORE', `${what}: ${(err as Error).message}`, {
    hint: `Check the permissions of ${W.homeVar} and of the key file (${W.keyFileVar}).`,
    cause: err,
  });
}
