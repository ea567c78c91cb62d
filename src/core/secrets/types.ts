import type { SecretBackendName } from '../store/db.js';

/**
 * Where endpoint tokens live. Keyed by account (the lower-cased host name);
 * every method is synchronous so it can run inside the store's write
 * transaction, which makes "token and entry" all-or-nothing.
 */
export interface SecretStore {
  readonly name: SecretBackendName;
  /** Throws NbwssError('STORE') with the way out if the backend does not answer; `create: false` (a diagnosis) creates nothing. */
  probe(opts?: { create?: boolean }): void;
  get(account: string): string | undefined;
  /**
   * The secrets of many accounts in one read where the backend has one (the
   * file store reads its key and file once, not once per account); throws
   * as get() would. The daemon reads every token at each reconcile.
   */
  getMany(accounts: Iterable<string>): Map<string, string | undefined>;
  set(account: string, secret: string): void;
  /** Returns whether something was deleted. */
  delete(account: string): boolean;
  /**
   * Several changes at once (a secret sets its account, undefined deletes
   * it), in one write where the backend has one: the file store reads,
   * re-encrypts and replaces its file once, not once per token. A keychain
   * takes them one by one, so a failure may leave some done: callers restore
   * every account they passed.
   */
  putAll(changes: ReadonlyMap<string, string | undefined>): void;
  /** Every account this store holds (for orphan checks). */
  accounts(): string[];
}

/** A host's account in the secret store: its canonical name (src/core/endpoint/host.ts), the store's key too. */
export { canonicalHost as accountFor } from '../endpoint/host.js';
