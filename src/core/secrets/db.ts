import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { NbwssError } from '../errors.js';
import { W } from '../hints.js';
import type { SecretStore } from './types.js';
import { getOneByOne, putOneByOne } from './one-by-one.js';

/** Where a shared (PostgreSQL) store keeps sealed secrets: one row per account. */
export interface SecretsTable {
  getSealed(account: string): string | undefined;
  setSealed(account: string, sealed: string): void;
  deleteSealed(account: string): boolean;
  sealedAccounts(): string[];
}

const MAGIC = Buffer.from('NBWSSdb1', 'latin1');

/** This host's key file is missing or does not open the shared store's tokens (not a store outage). */
export class KeyRefused extends NbwssError {}

/**
 * Tokens of a shared store: in the database, each sealed with the file
 * secret store's scheme (AES-256-GCM, the 32-byte key file), bound to its
 * account (a row copied onto another account does not open). The key file is
 * the administrator's to copy to every host of the store; without it a host
 * reads no token. Every method runs inside the store's transaction, so a
 * token and its entry still land together.
 */
export class DbSecretStore implements SecretStore {
  readonly name = 'file' as const;

  constructor(
    private readonly table: SecretsTable,
    private readonly keys: { key(create: boolean): Buffer | undefined },
    readonly keyFile: string,
  ) {}

  probe(opts: { create?: boolean } = {}): void {
    const key = this.keys.key(opts.create !== false);
    if (!key) throw missingKey(this.keyFile);
    for (const a of this.table.sealedAccounts()) this.open(key, a, this.table.getSealed(a)!);
  }

  get(account: string): string | undefined {
    const sealed = this.table.getSealed(account);
    if (sealed === undefined) return undefined;
    const key = this.keys.key(false);
    if (!key) throw missingKey(this.keyFile);
    return this.open(key, account, sealed);
  }

  set(account: string, secret: string): void {
    const key = this.keys.key(true)!;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.concat([MAGIC, Buffer.from(account, 'utf8')]));
    const ct = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    this.table.setSealed(account, Buffer.concat([MAGIC, iv, cipher.getAuthTag(), ct]).toString('base64'));
  }

  delete(account: string): boolean {
    return this.table.deleteSealed(account);
  }

  getMany(accounts: Iterable<string>): Map<string, string | undefined> {
    return getOneByOne(this, accounts);
  }

  putAll(changes: ReadonlyMap<string, string | undefined>): void {
    putOneByOne(this, changes);
  }

  accounts(): string[] {
    return this.table.sealedAccounts();
  }

  private open(key: Buffer, account: string, sealed: string): string {
    try {
      const bytes = Buffer.from(sealed, 'base64');
      if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error('unknown format');
      const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(MAGIC.length, MAGIC.length + 12));
      decipher.setAAD(Buffer.concat([MAGIC, Buffer.from(account, 'utf8')]));
      decipher.setAuthTag(bytes.subarray(MAGIC.length + 12, MAGIC.length + 28));
      return Buffer.concat([decipher.update(bytes.subarray(MAGIC.length + 28)), decipher.final()]).toString('utf8');
    } catch (e) {
      throw new KeyRefused('STORE', `The token of ${account} in the shared store cannot be decrypted with the key in ${this.keyFile}`, {
        hint: `Every host of a shared store needs the same key file: copy it from the host that created the store (${W.keyFileVar} names where it is read).`,
        cause: e,
      });
    }
  }
}

function missingKey(keyFile: string): NbwssError {
  return new KeyRefused('STORE', `The secret key file ${keyFile} is missing on this host`, {
    hint: `A shared store's tokens are sealed with one key file that every host needs: copy it from the host that created the store, or point ${W.keyFileVar} at it.`,
  });
}
