import type { SqlDatabase } from './sql.js';
import type { WatchedImage } from '../poll/map.js';

/** Schema step 4: what the REST API poller has seen, so a restart neither loses events nor repeats them. */
export type PollSource = 'jobs' | 'images';
export const POLL_SOURCES: readonly PollSource[] = ['jobs', 'images'];

/**
 * Where a source has got to. For jobs: the last lastUpdateTime seen (epoch
 * seconds), the job ids at that instant, and the floor before which nothing
 * is asked for (when polling began). For images: the floor only (the window
 * is listed whole each time; `baselined` once the first listing is known).
 */
export interface PollCursor {
  time: number;
  /** Kept for stores written before lastId: no longer read. */
  ids: (number | string)[];
  floor: number;
  /**
   * Jobs: every job of second `time` up to this jobId is done; absent, the
   * second is read again from its first job (repeats are filtered by state).
   */
  lastId?: number;
}

export interface PollSourceStatus {
  source: PollSource;
  cursor: PollCursor | null;
  lastPollAt: string | null;
  lastOkAt: string | null;
  lastError: string | null;
  events: number;
}

/** The poller's state. Writes run inside the store's write transaction, with the notifications they queue. */
export class PollState {
  constructor(private readonly db: SqlDatabase) {}

  cursor(source: PollSource): PollCursor | undefined {
    const row = this.db.prepare('SELECT cursor FROM poll_sources WHERE source = ?').get(source) as { cursor: string | null } | undefined;
    return row?.cursor ? (JSON.parse(row.cursor) as PollCursor) : undefined;
  }

  /** A poll succeeded: the new cursor, and how many notifications it found. */
  advance(source: PollSource, cursor: PollCursor, events: number, now: string): void {
    this.db
      .prepare(
        `INSERT INTO poll_sources (source, cursor, last_poll_at, last_ok_at, last_error, events) VALUES (?, ?, ?, ?, NULL, ?)
         ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, last_poll_at = excluded.last_poll_at, last_ok_at = excluded.last_ok_at,
           last_error = NULL, events = poll_sources.events + excluded.events`,
      )
      .run(source, JSON.stringify(cursor), now, now, events);
  }

  /** A poll failed: the cursor stays where it was. */
  failed(source: PollSource, error: string, now: string): void {
    this.db
      .prepare(
        `INSERT INTO poll_sources (source, last_poll_at, last_error) VALUES (?, ?, ?)
         ON CONFLICT (source) DO UPDATE SET last_poll_at = excluded.last_poll_at, last_error = excluded.last_error`,
      )
      .run(source, now, error);
  }

  /** Forget a source's cursor and what it saw (the API's base URL changed: another primary). */
  reset(source: PollSource): void {
    this.db.prepare('DELETE FROM poll_sources WHERE source = ?').run(source);
    this.db.prepare(source === 'jobs' ? 'DELETE FROM poll_jobs' : 'DELETE FROM poll_images').run();
  }

  sources(): PollSourceStatus[] {
    const rows = this.db
      .prepare(
        'SELECT source, cursor, last_poll_at AS lastPollAt, last_ok_at AS lastOkAt, last_error AS lastError, events FROM poll_sources ORDER BY source DESC',
      )
      .all() as (Omit<PollSourceStatus, 'cursor'> & { cursor: string | null })[];
    return rows.map((r) => ({ ...r, cursor: r.cursor ? (JSON.parse(r.cursor) as PollCursor) : null }));
  }

  /** The last notified state of these jobs. */
  jobStates(ids: readonly number[]): Map<number, string> {
    const out = new Map<number, string>();
    const statement = this.db.prepare('SELECT state FROM poll_jobs WHERE job_id = ?');
    for (const id of ids) {
      const row = statement.get(id) as { state: string } | undefined;
      if (row) out.set(id, row.state);
    }
    return out;
  }

  setJobState(id: number, state: string, seenAt: number): void {
    this.db
      .prepare(
        'INSERT INTO poll_jobs (job_id, state, seen_at) VALUES (?, ?, ?) ON CONFLICT (job_id) DO UPDATE SET state = excluded.state, seen_at = excluded.seen_at',
      )
      .run(id, state, seenAt);
  }

  /** Jobs last updated before `before` are never asked for again unless they change: forget them. */
  pruneJobs(before: number): number {
    return this.db.prepare('DELETE FROM poll_jobs WHERE seen_at < ?').run(before).changes;
  }

  /** At most `max` job states are kept, whatever times the primary gives: the oldest (by update time, then id) go first. */
  capJobs(max: number): number {
    const count = Number((this.db.prepare('SELECT count(*) AS n FROM poll_jobs').get() as { n: number }).n);
    if (count <= max) return 0;
    return this.db.prepare('DELETE FROM poll_jobs WHERE job_id IN (SELECT job_id FROM poll_jobs ORDER BY seen_at, job_id LIMIT ?)').run(count - max).changes;
  }

  /** At most `max` watched images are kept: the oldest backup times go first. */
  capImages(max: number): number {
    const count = Number((this.db.prepare('SELECT count(*) AS n FROM poll_images').get() as { n: number }).n);
    if (count <= max) return 0;
    return this.db
      .prepare('DELETE FROM poll_images WHERE backup_id IN (SELECT backup_id FROM poll_images ORDER BY backup_time, backup_id LIMIT ?)')
      .run(count - max).changes;
  }

  /** How many job states and watched images are kept (status, tests). */
  counts(): { jobs: number; images: number } {
    const jobs = (this.db.prepare('SELECT count(*) AS n FROM poll_jobs').get() as { n: number }).n;
    const images = (this.db.prepare('SELECT count(*) AS n FROM poll_images').get() as { n: number }).n;
    return { jobs: Number(jobs), images: Number(images) };
  }

  /** The watched images with a backup time from `from` on. */
  images(from: number): Map<string, WatchedImage> {
    const rows = this.db
      .prepare(
        'SELECT backup_id AS backupId, backup_time AS backupTime, client_name AS clientName, client_type AS clientType, digest FROM poll_images WHERE backup_time >= ?',
      )
      .all(from) as WatchedImage[];
    return new Map(rows.map((r) => [r.backupId, r]));
  }

  setImage(image: WatchedImage): void {
    this.db
      .prepare(
        `INSERT INTO poll_images (backup_id, backup_time, client_name, client_type, digest) VALUES (@backupId, @backupTime, @clientName, @clientType, @digest)
         ON CONFLICT (backup_id) DO UPDATE SET backup_time = excluded.backup_time, client_name = excluded.client_name, client_type = excluded.client_type, digest = excluded.digest`,
      )
      .run(image);
  }

  deleteImage(backupId: string): void {
    this.db.prepare('DELETE FROM poll_images WHERE backup_id = ?').run(backupId);
  }

  /** Images older than the window are no longer watched. */
  pruneImages(before: number): number {
    return this.db.prepare('DELETE FROM poll_images WHERE backup_time < ?').run(before).changes;
  }
}
