import { StoreBusy } from '../core/store/db.js';
import type { Logger } from './connection.js';

/** How long the daemon's writes wait for another process's write lock before trying again on a later tick (ms). */
export const DAEMON_LOCK_WAIT_MS = 40;

/** First retry after another writer held the lock (ms); it doubles up to BUSY_RETRY_MAX_MS. */
export const BUSY_RETRY_MS = 50;
export const BUSY_RETRY_MAX_MS = 500;
/** First retry after a store error (the store away): doubling up to FAILED_RETRY_MAX_MS. */
export const FAILED_RETRY_MS = 250;
export const FAILED_RETRY_MAX_MS = 5000;

/** When to write again after the `attempt`-th failure in a row (1-based): soon after a busy lock, backing off while the store is away. */
export function retryDelayMs(busy: boolean, attempt: number): number {
  const [first, max] = busy ? [BUSY_RETRY_MS, BUSY_RETRY_MAX_MS] : [FAILED_RETRY_MS, FAILED_RETRY_MAX_MS];
  return Math.min(max, first * 2 ** Math.min(Math.max(attempt - 1, 0), 16));
}

/**
 * A store write the daemon must not lose (acknowledgements, connection
 * states, a batch started): `attempt` writes what is waiting and throws if
 * the store did not take it; it is then tried again on a timer — soon when
 * another writer held the lock, backing off while the store is away. An
 * outage is logged once (error), its end once (info); a busy lock only at
 * debug level.
 */
export class StoreRetry {
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private said = false;
  private stopped = false;

  constructor(
    private readonly what: string,
    private readonly log: Logger,
    private readonly attempt: () => void,
  ) {}

  /** Write now (or, if a retry is already waiting, let it write). Returns whether it was written now. */
  run(): boolean {
    if (this.stopped) return false;
    if (this.timer) return false;
    try {
      this.attempt();
    } catch (e) {
      this.failed(e);
      return false;
    }
    if (this.said) this.log.info({}, `${this.what}: the store answers again`);
    this.failures = 0;
    this.said = false;
    return true;
  }

  private failed(err: unknown): void {
    this.failures++;
    const busy = err instanceof StoreBusy;
    if (busy) this.log.debug({ attempt: this.failures }, `${this.what}: another process holds the store's write lock; trying again`);
    else if (!this.said) {
      this.said = true;
      this.log.error({ err: (err as Error).message }, `${this.what}: the store did not answer; trying again until it does`);
    }
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.run();
      },
      retryDelayMs(busy, this.failures),
    );
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
