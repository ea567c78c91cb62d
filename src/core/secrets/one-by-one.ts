import type { SecretStore } from './types.js';

/** getMany for a backend without a bulk read (a keychain, the shared store's rows): each account asked in turn. */
export function getOneByOne(store: Pick<SecretStore, 'get'>, accounts: Iterable<string>): Map<string, string | undefined> {
  return new Map(Array.from(accounts, (a) => [a, store.get(a)]));
}

/** putAll for a backend without a bulk write: each change in turn (a failure half-way leaves the earlier ones done). */
export function putOneByOne(store: Pick<SecretStore, 'set' | 'delete'>, changes: ReadonlyMap<string, string | undefined>): void {
  for (const [account, secret] of changes) {
    if (secret === undefined) store.delete(account);
    else store.set(account, secret);
  }
}
