/**
 * How daemons of one shared store divide the server groups, as pure functions (the coordinator applies them with
 * PostgreSQL advisory locks): each live daemon holds up to its fair share, ceil(groups / live daemons); one holding
 * more hands back one group per round (the last by name), one holding fewer takes free groups in order, and nobody
 * moves while settling (just started, or just back after the shared store was away).
 */

export interface ShareInput {
  /** The groups this daemon holds now. */
  held: ReadonlySet<string>;
  /** The groups to serve (those with an ACTIVATED endpoint), in the order they are taken. */
  candidates: readonly string[];
  /** Live daemons of this store, this one included when it can serve (its key file opens the tokens). */
  live: number;
  /** Whether this daemon's key file opens the shared tokens (false: it serves nothing); undefined before it knows. */
  keyOk: boolean | undefined;
  /** Settling: no group taken or handed back this round (see settling()). */
  waiting: boolean;
}

export type ShareDecision =
  | { kind: 'keep'; share: number }
  /** Close this group's connections, then release its lock: another daemon takes it. */
  | { kind: 'handBack'; group: string; share: number }
  /** Try to lock these groups, in this order, until `count` are taken (a group another daemon locked is skipped). */
  | { kind: 'take'; tryGroups: string[]; count: number; share: number };

/** This daemon's fair share of the groups. */
export function fairShare(candidates: number, live: number, keyOk: boolean | undefined): number {
  return keyOk === false ? 0 : Math.ceil(candidates / Math.max(1, live));
}

export function shareDecision(input: ShareInput): ShareDecision {
  const share = fairShare(input.candidates.length, input.live, input.keyOk);
  if (input.waiting) return { kind: 'keep', share };
  // Alone, a daemon keeps what it holds (a share of 0 — a key that opens nothing — hands back even then).
  if (input.held.size > share && (input.live > 1 || share === 0)) return { kind: 'handBack', group: [...input.held].sort().at(-1)!, share };
  if (input.held.size < share) return { kind: 'take', tryGroups: input.candidates.filter((g) => !input.held.has(g)), count: share - input.held.size, share };
  return { kind: 'keep', share };
}

/**
 * Whether a daemon is still settling, by how long its current session to the shared store has lasted: after its first
 * connection it waits `settleMs` (daemons starting together then share from the start), after a reconnection
 * `graceMs` (the others notice it is back before groups move).
 */
export function settling(sessions: number, sinceSessionMs: number, settleMs: number, graceMs: number): boolean {
  return sessions > 1 ? sinceSessionMs < graceMs : sinceSessionMs < settleMs;
}
