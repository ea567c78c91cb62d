import {
  API_AUTH_META,
  API_KEY_ACCOUNT,
  API_PASSWORD_ACCOUNT,
  ApiCredentials,
  CredentialsRejected,
  describeAuth,
  type JsonAnswer,
  parseAuthConfig,
} from '../core/api/auth.js';
import type { RestClient } from '../core/api/rest.js';
import type { NbwssProperties } from '../core/config/properties.js';
import { W } from '../core/hints.js';
import type { Notification } from '../core/notify/notification.js';
import {
  diffImages,
  epochSeconds,
  imageNotification,
  imagesFilter,
  jobChange,
  jobNotification,
  jobsFilter,
  type WatchedImage,
  watchedImage,
} from '../core/poll/map.js';
import type { SecretStore } from '../core/secrets/index.js';
import type { EndpointStore } from '../core/store/db.js';
import type { EnqueueResult } from '../core/store/outbox.js';
import { POLL_SOURCES, type PollCursor, type PollSource, type PollSourceStatus } from '../core/store/poll.js';
import { safeText } from '../core/text.js';
import type { Logger } from './connection.js';

/** Jobs updated this long before the cursor are asked for again: a late writer on the primary is not missed (repeats are filtered by state). */
export const JOBS_OVERLAP_SECONDS = 30;
/** Page size, and the most pages one poll reads (the cursor moves page by page; the rest comes next poll). */
export const PAGE_LIMIT = 100;
export const MAX_JOB_PAGES = 50;
export const MAX_IMAGE_PAGES = 100;
/** At most this many vanished images are confirmed (GET /catalog/images/{id} → 404) per poll. */
export const MAX_DELETE_CONFIRMATIONS = 100;
/** After refused credentials a source waits for new ones, trying again at most this often. */
export const AUTH_RETRY_MS = 15 * 60_000;
/** The longest back-off after other errors. */
export const MAX_BACKOFF_MS = 5 * 60_000;
/** Job states are kept a week after the job's last update (a job seen again is then not notified twice). */
const JOB_MEMORY_SECONDS = 7 * 86_400;

export interface PollerOptions {
  store: EndpointStore;
  secrets: SecretStore;
  log: Logger;
  properties: () => NbwssProperties;
  api: () => RestClient;
  now: () => Date;
  /** Notifications were queued by a poll (the daemon sends them and counts them). */
  queued: (r: EnqueueResult, count: number) => void;
  changed: () => void;
  /** A poll ended: its outcome and how many notifications it found (metrics). */
  polled?: (source: PollSource, outcome: 'ok' | 'error' | 'rejected', found: number) => void;
}

export interface SourceStatus extends Omit<PollSourceStatus, 'cursor'> {
  enabled: boolean;
  /** Where the source has got to: the last update time seen (jobs) or the start of the watched window (images), ISO. */
  cursor: string | null;
  /** Why the source waits for the administrator (refused or missing credentials), if it does. */
  paused: string | null;
  nextPollInSeconds: number | null;
}

class NoCredentials extends Error {}

/**
 * Where notifications come from in a standalone nbwss: NetBackup's REST API,
 * polled every notification.scheduledRate seconds as the guide's NBWSS
 * does ("NetBackup polls for the job's state at regular intervals"). Each
 * poll's notifications are queued in the same transaction that moves the
 * source's cursor, so a restart (or kill -9) neither loses nor repeats one.
 */
export class Poller {
  private readonly timers = new Map<PollSource, NodeJS.Timeout>();
  private readonly nextAt = new Map<PollSource, number>();
  private readonly running = new Map<PollSource, Promise<void>>();
  private readonly errorsInARow = new Map<PollSource, number>();
  private readonly paused = new Map<PollSource, string>();
  private credentials: ApiCredentials | undefined;
  private credentialsKey = '';
  private baseKey = '';
  private readonly abort = new AbortController();
  private stopped = false;

  constructor(private readonly o: PollerOptions) {}

  /** On a shared store, only the daemon holding the poller lock polls. */
  private active = true;
  setActive(v: boolean): void {
    if (this.active === v) return;
    this.active = v;
    this.o.log.info({}, v ? 'this daemon polls the REST API for the shared store' : 'another daemon polls the REST API');
    this.refresh();
  }

  private enabled(source: PollSource): boolean {
    if (!this.active) return false;
    const p = this.o.properties();
    return source === 'jobs' ? p['api.poll.jobs'] : p['api.poll.images'];
  }

  /** Take the properties and credentials in force; start or stop sources. New credentials end a pause at once. */
  refresh(): void {
    if (this.stopped) return;
    const fresh = this.loadCredentials();
    const base = this.o.properties()['api.baseUrl'];
    if (this.baseKey !== '' && base !== this.baseKey) {
      // Another primary: its jobs and images are not the ones the cursors speak of.
      this.o.store.write(() => {
        for (const s of POLL_SOURCES) this.o.store.poll.reset(s);
      });
      this.o.log.info({ baseUrl: base }, 'api.baseUrl changed: polling starts afresh on the new primary');
    }
    this.baseKey = base;
    for (const s of POLL_SOURCES) {
      if (!this.enabled(s)) {
        this.cancel(s);
        this.paused.delete(s);
        continue;
      }
      if (fresh && this.paused.has(s)) {
        this.paused.delete(s);
        this.cancel(s);
      }
      if (!this.timers.has(s) && !this.running.has(s)) this.schedule(s, 0);
    }
  }

  /** Poll enabled sources now (nbwss api poll, a notify script's nudge). */
  pollNow(): void {
    for (const s of POLL_SOURCES) {
      if (!this.enabled(s) || this.running.has(s)) continue;
      this.paused.delete(s);
      this.cancel(s);
      this.schedule(s, 0);
    }
  }

  /** Returns true when the credentials changed since the last look. */
  private loadCredentials(): boolean {
    const config = parseAuthConfig(this.o.store.getMeta(API_AUTH_META));
    let secret: string | undefined;
    try {
      secret = config ? this.o.secrets.get(config.kind === 'key' ? API_KEY_ACCOUNT : API_PASSWORD_ACCOUNT) : undefined;
    } catch (e) {
      this.o.log.error({ err: (e as Error).message }, 'the secret store did not give the REST API credentials');
    }
    const key = JSON.stringify([config, secret]);
    if (key === this.credentialsKey) return false;
    this.credentialsKey = key;
    this.credentials =
      config && secret !== undefined
        ? new ApiCredentials(
            config,
            secret,
            () => this.o.api(),
            () => this.o.properties()['api.version'],
          )
        : undefined;
    return true;
  }

  private cancel(s: PollSource): void {
    clearTimeout(this.timers.get(s));
    this.timers.delete(s);
    this.nextAt.delete(s);
  }

  private schedule(s: PollSource, ms: number): void {
    if (this.stopped) return;
    this.cancel(s);
    this.nextAt.set(s, Date.now() + ms);
    this.timers.set(
      s,
      setTimeout(() => {
        this.timers.delete(s);
        this.nextAt.delete(s);
        const run = this.pollOnce(s).finally(() => this.running.delete(s));
        this.running.set(s, run);
      }, ms),
    );
  }

  private async pollOnce(s: PollSource): Promise<void> {
    if (this.stopped || !this.enabled(s)) return;
    const rate = this.o.properties()['notification.scheduledRate'] * 1000;
    try {
      const found = s === 'jobs' ? await this.pollJobs() : await this.pollImages();
      if (this.errorsInARow.get(s)) this.o.log.info({ source: s }, 'polling works again');
      this.errorsInARow.delete(s);
      if (found > 0) this.o.log.info({ source: s, notifications: found }, 'poll found notifications');
      this.o.polled?.(s, 'ok', found);
      this.schedule(s, rate);
    } catch (e) {
      if (this.stopped) return;
      const message = (e as Error).message;
      const hint = e instanceof CredentialsRejected ? e.hint : undefined;
      const said = hint ? `${message}. ${hint}` : message;
      this.record(s, said);
      const n = (this.errorsInARow.get(s) ?? 0) + 1;
      this.errorsInARow.set(s, n);
      const rejected = e instanceof CredentialsRejected || e instanceof NoCredentials;
      this.o.polled?.(s, rejected ? 'rejected' : 'error', 0);
      if (rejected) {
        // No retry storm: the source waits for new credentials (nbwss api key set / api login nudge the daemon).
        this.paused.set(s, said);
        this.o.log.error({ source: s, err: message }, 'polling paused until the REST API credentials change');
        this.schedule(s, AUTH_RETRY_MS);
      } else {
        const delay = Math.min(rate * 2 ** Math.min(n - 1, 16), Math.max(MAX_BACKOFF_MS, rate));
        this.o.log.warn({ source: s, err: message, retryInMs: delay }, 'poll failed');
        this.schedule(s, delay);
      }
    }
    this.o.changed();
  }

  private record(s: PollSource, error: string): void {
    try {
      this.o.store.write(() => this.o.store.poll.failed(s, error, this.o.now().toISOString()));
    } catch (e) {
      this.o.log.error({ err: (e as Error).message }, 'could not record the poll error');
    }
  }

  /** GET a path of the API with the daemon's credentials (ApiCredentials.get: the 401 rule in one place). */
  private async get(path: string, okStatuses: readonly number[] = [200]): Promise<JsonAnswer> {
    if (!this.credentials) throw new NoCredentials(`no credentials for NetBackup's REST API: set an API key with ${W.apiKeySet}, or log in with ${W.apiLogin}`);
    const a = await this.credentials.get(path, this.abort.signal);
    if (!okStatuses.includes(a.status)) throw new Error(a.problem);
    return a;
  }

  private primaryNow(a: JsonAnswer): number {
    return Math.floor((a.date ?? this.o.now()).getTime() / 1000);
  }

  /** Queue the notifications and move the cursor in one transaction. */
  private commit(s: PollSource, items: Notification[], cursor: PollCursor, more: () => void): void {
    const now = this.o.now().toISOString();
    const r = this.o.store.write(() => {
      more();
      const res = items.length ? this.o.store.outbox.enqueue(items, this.o.properties()['notification.maxQueued'], now) : undefined;
      this.o.store.poll.advance(s, cursor, items.length, now);
      return res;
    });
    if (r) this.o.queued(r, items.length);
  }

  private async pollJobs(): Promise<number> {
    const cursor = this.o.store.poll.cursor('jobs');
    if (!cursor) {
      // The first poll: notify what happens from now on, not the primary's history.
      const a = await this.get(`/admin/jobs?${new URLSearchParams({ sort: '-lastUpdateTime', 'page[limit]': '1' })}`);
      const t = this.primaryNow(a);
      this.commit('jobs', [], { time: t, ids: [], floor: t }, () => {});
      this.o.log.info({ from: new Date(t * 1000).toISOString() }, 'job polling starts: jobs that change from now on are notified');
      return 0;
    }
    const filter = jobsFilter(cursor.time, cursor.floor, JOBS_OVERLAP_SECONDS);
    let cur: PollCursor = { ...cursor, ids: [...cursor.ids] };
    let found = 0;
    for (let page = 0, offset = 0; page < MAX_JOB_PAGES; page++, offset += PAGE_LIMIT) {
      const q = new URLSearchParams({ filter, sort: 'lastUpdateTime,jobId', 'page[limit]': String(PAGE_LIMIT), 'page[offset]': String(offset) });
      const a = await this.get(`/admin/jobs?${q}`);
      const body = a.json as { data?: { attributes?: Record<string, unknown> }[]; meta?: { pagination?: { next?: number } } } | undefined;
      if (!Array.isArray(body?.data)) throw new Error('GET /admin/jobs answered without a data array');
      const jobs = body.data.map((d) => d.attributes ?? {}).filter((j) => Number.isSafeInteger(j.jobId));
      const items: Notification[] = [];
      const next = { ...cur, ids: [...cur.ids] };
      this.commit('jobs', items, next, () => {
        const states = this.o.store.poll.jobStates(jobs.map((j) => j.jobId as number));
        for (const j of jobs) {
          const id = j.jobId as number;
          const t = epochSeconds(j.lastUpdateTime) ?? next.time;
          // No skipping by the cursor's ids: NetBackup's times have whole seconds, and a job can change twice in one
          // (ACTIVE, then DONE): what was already notified is filtered by the state recorded per job.
          if (t > next.time) {
            next.time = t;
            next.ids = [id];
          } else if (t === next.time && !next.ids.includes(id) && next.ids.length < 1000) next.ids.push(id);
          const change = jobChange(j.state, states.get(id));
          if (!change) continue;
          states.set(id, change);
          this.o.store.poll.setJobState(id, change, t);
          const m = jobNotification(j);
          if (m.ok) items.push(m.notification);
          else this.o.log.warn({ job: id, problem: safeText(m.problem) }, 'a job could not be notified: NetBackup gave it without a field the guide requires');
        }
        this.o.store.poll.pruneJobs(cursor.time - JOBS_OVERLAP_SECONDS - JOB_MEMORY_SECONDS);
      });
      found += items.length;
      cur = next;
      if (body.meta?.pagination?.next === undefined || jobs.length === 0) break;
    }
    return found;
  }

  private async pollImages(): Promise<number> {
    const windowHours = this.o.properties()['api.poll.imageWindow'];
    const listed: WatchedImage[] = [];
    let complete = false;
    let windowStart = 0;
    let observedAt = 0;
    for (let page = 0, offset = 0; page < MAX_IMAGE_PAGES; page++, offset += PAGE_LIMIT) {
      if (page === 0) {
        // The window is measured on the primary's clock: a first small call reads it.
        const probe = await this.get(`/catalog/images?${new URLSearchParams({ 'page[limit]': '1' })}`);
        observedAt = this.primaryNow(probe);
        windowStart = observedAt - windowHours * 3600;
      }
      const q = new URLSearchParams({
        filter: imagesFilter(windowStart),
        sort: 'backupTime,backupId',
        'page[limit]': String(PAGE_LIMIT),
        'page[offset]': String(offset),
      });
      const a = await this.get(`/catalog/images?${q}`);
      const body = a.json as { data?: { attributes?: Record<string, unknown> }[]; meta?: { pagination?: { next?: number } } } | undefined;
      if (!Array.isArray(body?.data)) throw new Error('GET /catalog/images answered without a data array');
      for (const d of body.data) {
        const w = watchedImage(d.attributes ?? {});
        if (w) listed.push(w);
      }
      if (body.meta?.pagination?.next === undefined || body.data.length === 0) {
        complete = true;
        break;
      }
    }
    if (!complete) this.o.log.warn({ images: listed.length }, 'more images in the watched window than one poll reads: deletions are not looked for this time');
    const cursor = this.o.store.poll.cursor('images');
    if (!cursor) {
      const baseline = listed;
      this.commit('images', [], { time: observedAt, ids: [], floor: windowStart }, () => {
        for (const i of baseline) this.o.store.poll.setImage(i);
      });
      this.o.log.info({ images: baseline.length }, 'image polling starts: images that appear, change or go from now on are notified');
      return 0;
    }
    const known = this.o.store.poll.images(windowStart);
    const diff = diffImages(listed, known, windowStart, complete);
    // Offset paging can skip an image while the catalog changes: a missing one is deleted only when the API says 404.
    const deleted: WatchedImage[] = [];
    for (const m of diff.missing.slice(0, MAX_DELETE_CONFIRMATIONS)) {
      const a = await this.get(`/catalog/images/${encodeURIComponent(m.backupId)}`, [200, 404]);
      if (a.status === 404) deleted.push(m);
    }
    const items: Notification[] = [];
    const add = (i: WatchedImage, op: 'CREATE' | 'UPDATE' | 'DELETE') => {
      const n = imageNotification(i, op, observedAt);
      if (n.ok) items.push(n.notification);
      else this.o.log.warn({ image: safeText(i.backupId), problem: safeText(n.problem) }, 'an image could not be notified');
    };
    for (const i of diff.created) add(i, 'CREATE');
    for (const i of diff.updated) add(i, 'UPDATE');
    for (const i of deleted) add(i, 'DELETE');
    this.commit('images', items, { time: observedAt, ids: [], floor: windowStart }, () => {
      for (const i of [...diff.created, ...diff.updated]) this.o.store.poll.setImage(i);
      for (const i of deleted) this.o.store.poll.deleteImage(i.backupId);
      this.o.store.poll.pruneImages(windowStart);
    });
    return items.length;
  }

  status(): SourceStatus[] {
    const stored = new Map(this.o.store.poll.sources().map((s) => [s.source, s]));
    return POLL_SOURCES.map((source) => {
      const s = stored.get(source);
      const at = this.nextAt.get(source);
      return {
        source,
        enabled: this.enabled(source),
        cursor: s?.cursor ? new Date(s.cursor.time * 1000).toISOString() : null,
        lastPollAt: s?.lastPollAt ?? null,
        lastOkAt: s?.lastOkAt ?? null,
        lastError: s?.lastError ?? null,
        events: s?.events ?? 0,
        paused: this.paused.get(source) ?? null,
        nextPollInSeconds: at === undefined ? null : Math.max(0, Math.round((at - Date.now()) / 1000)),
      };
    });
  }

  get auth(): string {
    return describeAuth(this.credentials?.config);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    for (const s of POLL_SOURCES) this.cancel(s);
    await Promise.allSettled(this.running.values());
  }
}
