import type { SqlDatabase, SqlStatement } from './sql.js';
import type { Notification } from '../notify/notification.js';

/** A notification waiting for a group, with its place in the one order (schema: see Outbox). */
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

export interface Acknowledged {
  /** Notifications that left the group's queue. */
  removed: number;
  /** Notifications still pending for the group after them. */
  stillPending: number;
}

export interface EnqueueResult {
  /** Groups the notifications were queued for. */
  queued: string[];
  /** Groups whose outbox was full: nothing queued for them. */
  refused: { groupId: string; pending: number }[];
}

/** Notifications per INSERT statement (4 parameters each: well under SQLite's and PostgreSQL's limits). */
const INSERT_ROWS = 500;

/** A group's place in the notifications: what it has acknowledged, and how many after that are its. */
interface GroupQueue {
  ackedSeq: number;
  pending: number;
}

/**
 * The durable outbox. Each notification is stored once (`notifications`, in
 * one order: `seq`); each group with notifications pending has a queue
 * (`group_queues`): every notification after `acked_seq` is the group's,
 * except the ranges in `group_gaps` (batches it refused, or queued while it
 * did not collect); `pending` counts them. A queue starts with the first
 * batch queued for its group and ends when nothing is pending; a
 * notification leaves the store once no queue needs it.
 *
 * Writes must run inside the store's write transaction (EndpointStore.write);
 * reads may run anywhere.
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

  private queues(): Map<string, GroupQueue> {
    const rows = this.db.prepare('SELECT group_id AS g, acked_seq AS ackedSeq, pending FROM group_queues').all() as ({ g: string } & GroupQueue)[];
    return new Map(rows.map(({ g, ...q }) => [g, q]));
  }

  private queue(groupId: string): GroupQueue | undefined {
    return this.db.prepare('SELECT acked_seq AS ackedSeq, pending FROM group_queues WHERE group_id = ?').get(groupId) as GroupQueue | undefined;
  }

  /**
   * Queue notifications for every collecting group with room for all of
   * them; a group with fewer than that many free places gets none and is
   * named in `refused`.
   */
  enqueue(items: readonly Notification[], maxQueued: number, now: string): EnqueueResult {
    const groups = this.collectingGroups();
    const queues = this.queues();
    const queued: string[] = [];
    const refused: { groupId: string; pending: number }[] = [];
    for (const g of groups) {
      const pending = queues.get(g)?.pending ?? 0;
      if (pending + items.length > maxQueued) refused.push({ groupId: g, pending });
      else queued.push(g);
    }
    // Stryker disable next-line ConditionalExpression: with no group queued, reserving sequence numbers only leaves a gap
    if (queued.length && items.length) {
      const first = this.nextSeq(items.length);
      const last = first + items.length - 1;
      // Many rows per statement: on a shared store every statement is a round trip to the database.
      for (let i = 0; i < items.length; i += INSERT_ROWS) {
        const chunk = items.slice(i, i + INSERT_ROWS);
        this.insertRows(chunk.length).run(...chunk.flatMap((n, j) => [first + i + j, n.object, n.data, now]));
      }
      const add = this.db.prepare(
        `INSERT INTO group_queues (group_id, acked_seq, pending) VALUES (?, ?, ?)
         ON CONFLICT (group_id) DO UPDATE SET pending = group_queues.pending + excluded.pending`,
      );
      for (const g of queued) add.run(g, first - 1, items.length);
      // Every other group's queue (refused, or not collecting now) skips this batch.
      const isQueued = new Set(queued);
      for (const g of queues.keys()) if (!isQueued.has(g)) this.addGap(g, first, last);
    }
    const note = this.db.prepare(
      `INSERT INTO group_stats (group_id, refused, last_refused_at) VALUES (?, ?, ?)
       ON CONFLICT (group_id) DO UPDATE SET refused = group_stats.refused + excluded.refused, last_refused_at = excluded.last_refused_at`,
    );
    for (const r of refused) note.run(r.groupId, items.length, now);
    return { queued, refused };
  }

  /** The group does not get notifications first..last: joined to the gap before it when they touch (one row per run of refusals). */
  private addGap(groupId: string, first: number, last: number): void {
    const joined = this.db.prepare('UPDATE group_gaps SET to_seq = ? WHERE group_id = ? AND to_seq = ?').run(last, groupId, first - 1).changes;
    if (joined === 0) this.db.prepare('INSERT INTO group_gaps (group_id, from_seq, to_seq) VALUES (?, ?, ?)').run(groupId, first, last);
  }

  private readonly inserts = new Map<number, SqlStatement>();
  /** An INSERT of n notifications (prepared once per n: a full chunk, and the last one). */
  private insertRows(count: number) {
    let st = this.inserts.get(count);
    // Stryker disable next-line ConditionalExpression: a cache (see below)
    if (!st) {
      st = this.db.prepare(`INSERT INTO notifications (seq, object, data, accepted_at) VALUES ${Array(count).fill('(?, ?, ?, ?)').join(', ')}`);
      // Stryker disable next-line all: a cache of statements; without it they are prepared again (same rows written)
      if (this.inserts.size > 8) this.inserts.clear();
      this.inserts.set(count, st);
    }
    return st;
  }

  /** Reserve n sequence numbers (one order across all groups). */
  private nextSeq(count: number): number {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'notification_seq'").get() as { value: string } | undefined;
    const first = row ? Number(row.value) : 1;
    this.db
      .prepare("INSERT INTO meta (key, value) VALUES ('notification_seq', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
      .run(String(first + count));
    return first;
  }

  /** Groups with notifications pending. */
  pendingGroups(): string[] {
    return (this.db.prepare('SELECT group_id AS g FROM group_queues ORDER BY group_id').all() as { g: string }[]).map((r) => r.g);
  }

  /** The oldest pending notifications of a group, in order. */
  pending(groupId: string, limit: number): PendingRow[] {
    return this.db
      .prepare(
        `SELECT n.seq, n.object, n.data, n.accepted_at AS acceptedAt FROM group_queues q JOIN notifications n ON n.seq > q.acked_seq
         WHERE q.group_id = ? AND ${NOT_IN_GAP('q.group_id')}
         ORDER BY n.seq LIMIT ?`,
      )
      .all(groupId, limit) as PendingRow[];
  }

  deliveries(): Delivery[] {
    return this.db
      .prepare(
        `SELECT group_id AS groupId, message_id AS messageId, up_to_seq AS upToSeq, count, message, attempts, first_sent_at AS firstSentAt FROM deliveries`,
      )
      .all() as Delivery[];
  }

  startDelivery(delivery: Delivery): void {
    this.db
      .prepare(
        `INSERT INTO deliveries (group_id, message_id, up_to_seq, count, message, attempts, first_sent_at)
         VALUES (@groupId, @messageId, @upToSeq, @count, @message, @attempts, @firstSentAt)
         ON CONFLICT (group_id) DO UPDATE SET message_id = excluded.message_id, up_to_seq = excluded.up_to_seq, count = excluded.count,
           message = excluded.message, attempts = excluded.attempts, first_sent_at = excluded.first_sent_at`,
      )
      .run(delivery);
  }

  recordAttempts(groupId: string, messageId: string, attempts: number): void {
    this.db.prepare('UPDATE deliveries SET attempts = ? WHERE group_id = ? AND message_id = ?').run(attempts, groupId, messageId);
  }

  /**
   * The group's message was acknowledged: its notifications leave the group's queue (and the store, once no group
   * needs them). Returns how many left the queue, and how many are still pending for the group (none: no next batch to
   * look for).
   */
  acknowledge(groupId: string, messageId: string, now: string): Acknowledged {
    const delivery = this.db.prepare('SELECT up_to_seq AS upTo, count FROM deliveries WHERE group_id = ? AND message_id = ?').get(groupId, messageId) as
      | { upTo: number; count: number }
      | undefined;
    const queue = this.queue(groupId);
    if (!delivery) return { removed: 0, stillPending: queue?.pending ?? 0 };
    const upTo = delivery.upTo;
    let removed = 0;
    let pending = 0;
    // Stryker disable next-line ConditionalExpression,LogicalOperator: a guard; a delivery is made from a queue's rows and ends with it
    if (queue) {
      // The message carried the group's oldest pending ones up to upTo; only an acknowledgement or a drop (which ends the delivery) takes them away.
      removed = Math.min(delivery.count, queue.pending);
      pending = queue.pending - removed;
      // A queue lives while something is pending (the next batch for the group starts a new one): no idle rows to skip.
      if (pending === 0) this.forgetQueue(groupId);
      else {
        this.db.prepare('UPDATE group_queues SET acked_seq = ?, pending = ? WHERE group_id = ?').run(upTo, pending, groupId);
        this.db.prepare('DELETE FROM group_gaps WHERE group_id = ? AND to_seq <= ?').run(groupId, upTo);
      }
      this.collect(queue.ackedSeq, upTo);
    }
    this.db.prepare('DELETE FROM deliveries WHERE group_id = ?').run(groupId);
    this.db
      .prepare(
        `INSERT INTO group_stats (group_id, acknowledged, last_acknowledged_at) VALUES (?, ?, ?)
         ON CONFLICT (group_id) DO UPDATE SET acknowledged = group_stats.acknowledged + excluded.acknowledged, last_acknowledged_at = excluded.last_acknowledged_at`,
      )
      .run(groupId, removed, now);
    return { removed, stillPending: pending };
  }

  /** A group that no longer collects: its pending notifications are dropped. Returns how many. */
  drop(groupId: string): number {
    const queue = this.queue(groupId);
    const dropped = queue?.pending ?? 0;
    this.forgetQueue(groupId);
    this.db.prepare('DELETE FROM deliveries WHERE group_id = ?').run(groupId);
    if (queue) this.collect(queue.ackedSeq, Number.MAX_SAFE_INTEGER);
    this.db
      .prepare(
        'INSERT INTO group_stats (group_id, dropped) VALUES (?, ?) ON CONFLICT (group_id) DO UPDATE SET dropped = group_stats.dropped + excluded.dropped',
      )
      .run(groupId, dropped);
    return dropped;
  }

  private forgetQueue(groupId: string): void {
    this.db.prepare('DELETE FROM group_queues WHERE group_id = ?').run(groupId);
    this.db.prepare('DELETE FROM group_gaps WHERE group_id = ?').run(groupId);
  }

  /** The notifications after `after` up to `upTo` that no group needs any more leave the store. */
  private collect(after: number, upTo: number): void {
    this.db
      .prepare(
        `DELETE FROM notifications WHERE seq > ? AND seq <= ? AND NOT EXISTS (
           SELECT 1 FROM group_queues q WHERE q.acked_seq < notifications.seq AND ${NOT_IN_GAP('q.group_id', 'notifications.seq')})`,
      )
      .run(after, upTo);
  }

  /** Per group: pending, oldest pending, and what was acknowledged, refused and dropped. */
  groups(): GroupOutbox[] {
    return this.db
      .prepare(
        `WITH p AS (
                SELECT q.group_id, q.pending,
                       (SELECT n.accepted_at FROM notifications n WHERE n.seq > q.acked_seq AND ${NOT_IN_GAP('q.group_id')} ORDER BY n.seq LIMIT 1) AS oldest
                FROM group_queues q),
              g AS (SELECT group_id FROM p UNION SELECT group_id FROM group_stats)
         SELECT g.group_id AS groupId, COALESCE(p.pending, 0) AS pending, p.oldest AS oldestAcceptedAt,
                COALESCE(s.acknowledged, 0) AS acknowledged, s.last_acknowledged_at AS lastAcknowledgedAt,
                COALESCE(s.refused, 0) AS refused, s.last_refused_at AS lastRefusedAt, COALESCE(s.dropped, 0) AS dropped
         FROM g LEFT JOIN p USING (group_id) LEFT JOIN group_stats s USING (group_id) ORDER BY g.group_id`,
      )
      .all() as GroupOutbox[];
  }
}

/** SQL: the notification numbered `seq` (a column) is not in a gap of the group named by `group` (a column or a parameter). */
const NOT_IN_GAP = (group: string, seq = 'n.seq') =>
  `NOT EXISTS (SELECT 1 FROM group_gaps x WHERE x.group_id = ${group} AND x.from_seq <= ${seq} AND x.to_seq >= ${seq})`;
