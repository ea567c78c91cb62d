import { W } from '../core/hints.js';
import type { EndpointSummary } from '../core/store/db.js';
import type { ConnectTarget } from './connection.js';

export interface TargetInputs {
  /** The ACTIVATED entries this daemon serves (a shared store: the groups it holds). */
  entries: readonly EndpointSummary[];
  /** Entries that are one host under two names: each host name to the pair it belongs to (`store.hostConflicts()`). */
  conflicts: readonly (readonly string[])[];
  /** The entry's secret-store account. */
  account(hostName: string): string;
  /** The account's token from the secret store (undefined: none there); throws when the store cannot be read. */
  token(account: string): string | undefined;
  /** The token this daemon read for the account before, if any (what the last reconcile saw). */
  tokenSeen(account: string): string | undefined;
}

export interface TargetChoice {
  /** What the daemon may connect to, by account. */
  targets: Map<string, ConnectTarget>;
  /** Entries that cannot be connected, and why: the last error `show` gives. */
  refused: { entry: EndpointSummary; reason: string }[];
  /** Endpoints that keep the token read before because the secret store cannot be read now. */
  keptTokens: number;
  /** The secret store's own words, when it could not be read for some entry ('' otherwise). */
  secretStoreError: string;
}

/**
 * Which entries the daemon may connect to, each with its token. Not an entry whose host is also in the store under
 * another name (they would share one token; `nbwss doctor` names them), nor one without a token. When the secret
 * store cannot be read (a locked keychain, a key file moved away), an endpoint seen before keeps the token read then,
 * so a live connection is not dropped for it; one never read cannot connect and records the secret store's error.
 */
export function chooseTargets(inputs: TargetInputs): TargetChoice {
  const pairOf = new Map<string, readonly string[]>();
  for (const pair of inputs.conflicts) for (const hostName of pair) pairOf.set(hostName, pair);
  const targets = new Map<string, ConnectTarget>();
  const refused: TargetChoice['refused'] = [];
  let keptTokens = 0;
  let secretStoreError = '';
  for (const entry of inputs.entries) {
    const account = inputs.account(entry.hostName);
    const pair = pairOf.get(entry.hostName);
    if (pair) {
      refused.push({ entry, reason: `not connected: ${pair.map((h) => `"${h}"`).join(' and ')} are one host under two names; delete one (${W.doctor})` });
      continue;
    }
    let token: string | undefined;
    try {
      token = inputs.token(account);
    } catch (e) {
      secretStoreError = (e as Error).message;
      token = inputs.tokenSeen(account);
      if (token === undefined) {
        refused.push({ entry, reason: `secret store: ${secretStoreError}` });
        continue;
      }
      keptTokens++;
    }
    if (token === undefined) {
      refused.push({ entry, reason: 'no token in the secret store' });
      continue;
    }
    const { hostName, url, groupId, priority, pinType, fingerprint, spkiFingerprint } = entry;
    targets.set(account, { hostName, url, groupId, priority, pinType, fingerprint, spkiFingerprint, token });
  }
  return { targets, refused, keptTokens, secretStoreError };
}
