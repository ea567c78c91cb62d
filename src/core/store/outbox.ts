import type { SqlDatabase, SqlStatement } from './sql.js';
import type { Notification } from '../notify/notification.js';

/** Schema step 3: the notification outbox, one row per notification and server group. */
export interface PendingRow extends Notification {
  seq: number;
  acceptedAt: string;
}

export interface Delivery {
  groupId: string;
  messageId: string;
  upToSeq: number;
  count: number;
  message: string;
  attempts: number;
  firstSentAt: string;
}

export interface GroupOutbox {
  groupId: string;
  pending: number;
  oldestAcceptedAt: string | null;
  acknowledged: number;
  lastAcknowledgedAt: string | null;
  refused: number;
  lastRefusedAt: string | null;
  dropped: number;
}

export interface EnqueueResult {
  /** Groups the notifications were queued for. */
  queued: string[];
  /** Groups whose outbox was full: nothing queued for them. */
  refused: { groupId: string; pending: number }[];
}

/** Outbox rows per INSERT statement (5 parameters each: well under SQLite's and PostgreSQL's limits). */
const INSERT_ROWS = 500;

/**
 * The durable outbox. Writes must run inside the store's write transaction
 * (EndpointStore.write); reads may run anywhere.
 */
export class Outbox {
  constructor(private readonly db: SqlDatabase) {}

  /** The groups that collect notifications now: those with an ACTIVATED endpoint. */
  collectingGroups(): string[] {
    return (this.db.prepare("SELECT DISTINCT group_id AS g FROM endpoints WHERE state = 'ACTIVATED' ORDER BY group_id").all() as { g: string }[]).map(
      (r) => r.g,
    );
  }

  /** Whether this group collects notifications now (has an ACTIVATED endpoint). */
  collects(groupId: string): boolean {
    return this.db.prepare("SELECT 1 AS one FROM endpoints WHERE state = 'ACTIVATED' AND group_id = ? LIMIT 1").get(groupId) !== undefined;
  }

  /**
   * Queue notifications for every collecting group with room for all of
   * them; a group with fewer than that many free places gets none and is
   * named in `refused`.
   */
  enqueue(items: readonly Notification[], maxQueued: number, now: string): EnqueueResult {
    const groups = this.collectingGroups();
    const count = this.db.prepare('SELECT COUNT(*) AS n FROM outbox WHERE group_id = ?');
    const queued: string[] = [];
    const refused: { groupId: string; pending: number }[] = [];
    for (const g of groups) {
      const pending = (count.get(g) as { n: number }).n;
      if (pending + items.length > maxQueued) refused.push({ groupId: g, pending });
      else queued.push(g);
    }
    // Stryker disable next-line ConditionalExpression: with no group queued, reserving sequence numbers only leaves a gap
    if (queued.length) {
      const first = this.nextSeq(items.length);
      // Many rows per statement: on a shared store every statement is a round trip to the database.
      const rows: unknown[][] = [];
      const flush = () => {
        if (rows.length === 0) return;
        this.insertRows(rows.length).run(...rows.flat());
        rows.length = 0;
      };
      for (const g of queued)
        for (let i = 0; i < items.length; i++) {
          rows.push([g, first + i, items[i]!.object, items[i]!.data, now]);
          // Stryker disable next-line ConditionalExpression,EqualityOperator: flushing more often writes the same rows (the 7,000-row test covers flushing too rarely)
          if (rows.length === INSERT_ROWS) flush();
        }
      flush();
    }
    const note = this.db.prepare(
      `INSERT INTO group_stats (group_id, refused, last_refused_at) VALUES (?, ?, ?)
       ON CONFLICT (group_id) DO UPDATE SET refused = group_stats.refused + excluded.refused, last_refused_at = excluded.last_refused_at`,
    );
    for (const r of refused) note.run(r.groupId, items.length, now);
    return { queued, refused };
  }

  private readonly inserts = new Map<number, SqlStatement>();
  /** An INSERT of n outbox rows (prepared once per n: a full chunk, and the last one). */
  private insertRows(n: number) {
    let st = this.inserts.get(n);
    // Stryker disable next-line ConditionalExpression: a cache (see below)
    if (!st) {
      st = this.db.prepare(`INSERT INTO outbox (group_id, seq, object, data, accepted_at) VALUES ${Array(n).fill('(?, ?, ?, ?, ?)').join(', ')}`);
      // Stryker disable next-line all: a cache of statements; without it they are prepared again (same rows written)
      if (this.inserts.size > 8) this.inserts.clear();
      this.inserts.set(n, st);
    }
    return st;
  }

  /** Reserve n sequence numbers (one order across all groups). */
  private nextSeq(n: number): number {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'notification_seq'").get() as { value: string } | undefined;
    const first = row ? Number(row.value) : 1;
    this.db
      .prepare("INSERT INTO meta (key, value) VALUES ('notification_seq', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
      .run(String(first + n));
    return first;
  }

  /** Groups with notifications pending (one index seek per group, not a scan of every row). */
  pendingGroups(): string[] {
    return (
      this.db
        .prepare(
          `WITH RECURSIVE g(id) AS (
             SELECT (SELECT MIN(group_id) FROM outbox)
             UNION ALL SELECT (SELECT MIN(group_id) FROM outbox WHERE group_id > g.id) FROM g WHERE g.id IS NOT NULL)
           SELECT id AS g FROM g WHERE id IS NOT NULL`,
        )
        .all() as { g: string }[]
    ).map((r) => r.g);
  }

  /** The oldest pending notifications of a group, in order. */
  pending(groupId: string, limit: number, afterSeq = 0): PendingRow[] {
    return this.db
      .prepare('SELECT seq, object, data, accepted_at AS acceptedAt FROM outbox WHERE group_id = ? AND seq > ? ORDER BY seq LIMIT ?')
      .all(groupId, afterSeq, limit) as PendingRow[];
  }

  deliveries(): Delivery[] {
    return this.db
      .prepare(
        `SELECT group_id AS groupId, message_id AS messageId, up_to_seq AS upToSeq, count, message, attempts, first_sent_at AS firstSentAt FROM deliveries`,
      )
      .all() as Delivery[];
  }

  startDelivery(d: Delivery): void {
    this.db
      .prepare(
        `INSERT INTO deliveries (group_id, message_id, up_to_seq, count, message, attempts, first_sent_at)
         VALUES (@groupId, @messageId, @upToSeq, @count, @message, @attempts, @firstSentAt)
         ON CONFLICT (group_id) DO UPDATE SET message_id = excluded.message_id, up_to_seq = excluded.up_to_seq, count = excluded.count,
           message = excluded.message, attempts = excluded.attempts, first_sent_at = excluded.first_sent_at`,
      )
      .run(d);
  }

  recordAttempts(groupId: string, messageId: string, attempts: number): void {
    this.db.prepare('UPDATE deliveries SET attempts = ? WHERE group_id = ? AND message_id = ?').run(attempts, groupId, messageId);
  }

  /** The group's message was acknowledged: its notifications leave the outbox. Returns how many. */
  acknowledge(groupId: string, messageId: string, now: string): number {
    const d = this.db.prepare('SELECT up_to_seq AS upTo FROM deliveries WHERE group_id = ? AND message_id = ?').get(groupId, messageId) as
      | { upTo: number }
      | undefined;
    if (!d) return 0;
    const n = this.db.prepare('DELETE FROM outbox WHERE group_id = ? AND seq <= ?').run(groupId, d.upTo).changes;
    this.db.prepare('DELETE FROM deliveries WHERE group_id = ?').run(groupId);
    this.db
      .prepare(
        `INSERT INTO group_stats (group_id, acknowledged, last_acknowledged_at) VALUES (?, ?, ?)
         ON CONFLICT (group_id) DO UPDATE SET acknowledged = group_stats.acknowledged + excluded.acknowledged, last_acknowledged_at = excluded.last_acknowledged_at`,
      )
      .run(groupId, n, now);
    return n;
  }

  /** A group that no longer collects: its pending notifications are dropped. Returns how many. */
  drop(groupId: string): number {
    const n = this.db.prepare('DELETE FROM outbox WHERE group_id = ?').run(groupId).changes;
    this.db.prepare('DELETE FROM deliveries WHERE group_id = ?').run(groupId);
    this.db
      .prepare(
        'INSERT INTO group_stats (group_id, dropped) VALUES (?, ?) ON CONFLICT (group_id) DO UPDATE SET dropped = group_stats.dropped + excluded.dropped',
      )
      .run(groupId, n);
    return n;
  }

  /** Per group: pending, oldest pending, and what was acknowledged, refused and dropped. */
  groups(): GroupOutbox[] {
    return this.db
      .prepare(
        `WITH p AS (SELECT group_id, COUNT(*) AS pending, MIN(accepted_at) AS oldest FROM outbox GROUP BY group_id),
              g AS (SELECT group_id FROM p UNION SELECT group_id FROM group_stats)
         SELECT g.group_id AS groupId, COALESCE(p.pending, 0) AS pending, p.oldest AS oldestAcceptedAt,
                COALESCE(s.acknowledged, 0) AS acknowledged, s.last_acknowledged_at AS lastAcknowledgedAt,
                COALESCE(s.refused, 0) AS refused, s.last_refused_at AS lastRefusedAt, COALESCE(s.dropped, 0) AS dropped
         FROM g LEFT JOIN p USING (group_id) LEFT JOIN group_stats s USING (group_id) ORDER BY g.group_id`,
      )
      .all() as GroupOutbox[];
  }
}
