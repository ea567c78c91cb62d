import { Entry, findCredentials } from '@napi-rs/keyring';
import { NbwssError } from '../errors.js';
import type { SecretStore } from './types.js';
import { getOneByOne, putOneByOne } from './one-by-one.js';
import { W } from '../hints.js';

// Always the Secret Service on Linux: keyring's default silently falls back to
// the kernel keyutils keyring, which forgets everything at reboot.
const OPTIONS = { linux: { store: 'secret-service' as const } };

const wayOut = () =>
  `Start a keychain (on Linux: a Secret Service such as gnome-keyring on the session D-Bus), or use the encrypted file store: run the same command again with ${W.secretStore('file')} — this store then remembers it, and no later command needs the flag (or set NBWSS_SECRET_STORE=file for every store).`;

/** The OS keychain: macOS Keychain, Windows Credential Manager, Secret Service. */
export class KeychainSecretStore implements SecretStore {
  readonly name = 'keychain' as const;
  readonly service: string;

  constructor(storeId: string) {
    this.service = `nbwss:${storeId}`;
  }

  private entry(account: string): Entry {
    return this.call(() => new Entry(this.service, account, OPTIONS));
  }

  private call<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw keychainError(e);
    }
  }

  probe(): void {
    const entry = this.entry('nbwss-probe');
    this.call(() => entry.getPassword());
  }

  get(account: string): string | undefined {
    const entry = this.entry(account);
    return this.call(() => entry.getPassword()) ?? undefined;
  }

  set(account: string, secret: string): void {
    const entry = this.entry(account);
    this.call(() => entry.setPassword(secret));
  }

  delete(account: string): boolean {
    const entry = this.entry(account);
    return this.call(() => entry.deletePassword());
  }

  getMany(accounts: Iterable<string>): Map<string, string | undefined> {
    return getOneByOne(this, accounts);
  }

  putAll(changes: ReadonlyMap<string, string | undefined>): void {
    putOneByOne(this, changes);
  }

  accounts(): string[] {
    return this.call(() => findCredentials(this.service)).map((c) => c.account);
  }
}

/** A keychain failure in a sentence; the library's own words stay in the error's cause (NBWSS_DEBUG=1 prints it). */
export function keychainError(err: unknown): NbwssError {
  const msg = (err as Error).message ?? String(err);
  let what: string | undefined;
  if (/autolaunch|\$DISPLAY|DBUS_SESSION_BUS_ADDRESS|Failed to connect to socket|session bus/i.test(msg))
    what = 'no D-Bus session bus is running, so no Secret Service can answer';
  else if (/ServiceUnknown|org\.freedesktop\.secrets|secret service|not provided by any \.service/i.test(msg))
    what = 'no Secret Service (such as gnome-keyring) runs on the session D-Bus';
  else if (/dbus|platform failure|no such|not available|unavailable/i.test(msg)) what = 'the keychain service did not answer';
  if (what) return new NbwssError('STORE', `No OS keychain is reachable: ${what}`, { hint: wayOut(), cause: err });
  if (/locked|dismissed|prompt/i.test(msg))
    return new NbwssError('STORE', 'The OS keychain is locked', { hint: `Unlock the keychain and try again, or use ${W.secretStore('file')}.`, cause: err });
  return new NbwssError('STORE', 'The OS keychain refused the request', {
    hint: `Run again with ${W.debug} to see its answer; unlock the keychain, or use ${W.secretStore('file')}.`,
    cause: err,
  });
}
