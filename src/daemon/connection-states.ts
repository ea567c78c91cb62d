import type { EndpointStore } from '../core/store/db.js';
import type { Logger } from './connection.js';
import { StoreRetry } from './store-retry.js';

/** An entry as the daemon's bookkeeping names it. */
export type Entry = { hostName: string; groupId: string };

interface UnwrittenState {
  state: 'CONNECTED' | 'DISCONNECTED';
  since: string;
  lastError: string | null;
  groupId: string;
}

/**
 * The connection state of each entry as `nbwss list` and `show` read it from the store (CONNECTED, DISCONNECTED and
 * the last error). States are written once per turn of the event loop, the latest per entry, in one transaction: a
 * burst of 2,000 connects is one write. A store that does not take them (another writer's lock, a shared store away)
 * keeps them and is tried again (StoreRetry); none is lost.
 */
export class ConnectionStates {
  private readonly unwritten = new Map<string, UnwrittenState>();
  private writeSoon: NodeJS.Immediate | undefined;
  private readonly writes: StoreRetry;

  constructor(
    private readonly store: EndpointStore,
    log: Logger,
    private readonly now: () => Date,
  ) {
    this.writes = new StoreRetry('recording connection states', log, () => this.flush());
  }

  /** The entry's state now; written with the others of this turn of the event loop. */
  record({ hostName, groupId }: Entry, state: 'CONNECTED' | 'DISCONNECTED', lastError: string | null): void {
    this.unwritten.set(hostName, { state, since: this.now().toISOString(), lastError, groupId });
    this.writeSoon ??= setImmediate(() => {
      this.writeSoon = undefined;
      this.writes.run();
    });
  }

  /** Write the states waiting, in one transaction; throws (keeping them) if the store does not take them. */
  flush(): void {
    // Stryker disable next-line ConditionalExpression: a guard; an empty transaction writes nothing
    if (this.unwritten.size === 0) return;
    this.store.write(() => {
      for (const [host, s] of this.unwritten) this.store.endpoints.setConnection(host, s.state, s.since, s.lastError);
    });
    // The write is synchronous: nothing was recorded while it ran, and everything waiting was written.
    this.unwritten.clear();
  }

  /** A group handed to another daemon: its states are that daemon's to write now (it resets them when it takes the group). */
  forgetGroup(groupId: string): void {
    for (const [host, s] of [...this.unwritten]) if (s.groupId === groupId) this.unwritten.delete(host);
  }

  /** No more writes on their own: what is left is written by one last flush() (stopping). */
  stop(): void {
    clearImmediate(this.writeSoon);
    this.writeSoon = undefined;
    this.writes.stop();
  }
}
