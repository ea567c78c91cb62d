import {
  API_AUTH_META,
  API_KEY_ACCOUNT,
  API_PASSWORD_ACCOUNT,
  ApiCredentials,
  CredentialsRejected,
  describeAuth,
  type JsonAnswer,
  parseAuthConfig,
  versionMemory,
} from '../core/api/auth.js';
import type { RestClient } from '../core/api/rest.js';
import type { NbwssProperties } from '../core/config/properties.js';
import { W } from '../core/hints.js';
import type { Notification } from '../core/notify/notification.js';
import { diffImages, epochSeconds, imageNotification, imagesFilter, jobChange, jobNotification, type WatchedImage, watchedImage } from '../core/poll/map.js';
import { nextQuery, type Page, type PageRequest, readPage } from '../core/poll/paging.js';
import type { SecretStore } from '../core/secrets/index.js';
import { type EndpointStore, StoreBusy } from '../core/store/db.js';
import type { EnqueueResult } from '../core/store/outbox.js';
import { POLL_SOURCES, type PollCursor, type PollSource, type PollSourceStatus } from '../core/store/poll.js';
import { safeText } from '../core/text.js';
import type { Logger } from './connection.js';
import { BUSY_RETRY_MAX_MS } from './store-retry.js';

/** Jobs updated this long before the cursor are asked for again: a late writer on the primary is not missed (repeats are filtered by state). */
export const JOBS_OVERLAP_SECONDS = 30;
/** Page size, and the most pages one poll reads (the cursor moves page by page; the rest comes next poll). */
export const PAGE_LIMIT = 100;
export const MAX_JOB_PAGES = 50;
export const MAX_IMAGE_PAGES = 100;
/** The overlap (late writers) is read again within this many pages; a busier overlap is read in part. */
export const MAX_OVERLAP_PAGES = 10;
/** The cursor never moves past the primary's clock (its Date header) plus this: a job dated in the future cannot drag it there. */
export const MAX_CLOCK_SKEW_SECONDS = 5;
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
  queued: (result: EnqueueResult, count: number) => void;
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
  /** A job dated after the primary's clock, seen by the last poll. */
  warning: string | null;
}

class NoCredentials extends Error {}

interface JobRun {
  cursor: PollCursor;
  pages: number;
  found: number;
  /** The primary's clock at the poll's first page, plus the skew allowed: nothing later is read. */
  ceiling: number;
}

const iso = (t: number) => new Date(t * 1000).toISOString();

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
  private lastApi: RestClient | undefined;
  private credentialsKey = '';
  private baseKey = '';
  private readonly abort = new AbortController();
  private stopped = false;

  constructor(private readonly options: PollerOptions) {}

  /** On a shared store, only the daemon holding the poller lock polls. */
  private active = true;
  setActive(active: boolean): void {
    if (this.active === active) return;
    this.active = active;
    this.options.log.info({}, active ? 'this daemon polls the REST API for the shared store' : 'another daemon polls the REST API');
    this.refresh();
  }

  private enabled(source: PollSource): boolean {
    if (!this.active) return false;
    const props = this.options.properties();
    return source === 'jobs' ? props['api.poll.jobs'] : props['api.poll.images'];
  }

  /** Take the properties and credentials in force; start or stop sources. New credentials end a pause at once. */
  refresh(): void {
    if (this.stopped) return;
    try {
      this.refreshNow();
    } catch (e) {
      // Called from timers and callbacks (a fence, a nudge): the store may be away; the next refresh tries again.
      this.options.log.error({ err: (e as Error).message }, 'could not refresh the REST API poller');
    }
  }

  private refreshNow(): void {
    // New credentials, or new REST settings (a pin, a CA, another api.version): a waiting source tries again at once.
    const api = this.options.api();
    const settingsChanged = this.lastApi !== undefined && this.lastApi !== api;
    this.lastApi = api;
    const fresh = this.loadCredentials() || settingsChanged;
    const base = this.options.properties()['api.baseUrl'];
    if (this.baseKey !== '' && base !== this.baseKey) {
      // Another primary: its jobs and images are not the ones the cursors speak of.
      this.options.store.write(() => {
        for (const s of POLL_SOURCES) this.options.store.poll.reset(s);
      });
      this.options.log.info({ baseUrl: base }, 'api.baseUrl changed: polling starts afresh on the new primary');
    }
    this.baseKey = base;
    for (const source of POLL_SOURCES) {
      if (!this.enabled(source)) {
        this.cancel(source);
        this.paused.delete(source);
        continue;
      }
      if (fresh && (this.paused.has(source) || this.errorsInARow.get(source))) {
        this.paused.delete(source);
        this.cancel(source);
      }
      if (!this.timers.has(source) && !this.running.has(source)) this.schedule(source, 0);
    }
  }

  /** Poll enabled sources now (nbwss api poll, a notify script's nudge). */
  pollNow(): void {
    for (const source of POLL_SOURCES) {
      if (!this.enabled(source) || this.running.has(source)) continue;
      this.paused.delete(source);
      this.cancel(source);
      this.schedule(source, 0);
    }
  }

  /** Returns true when the credentials changed since the last look. */
  private loadCredentials(): boolean {
    const config = parseAuthConfig(this.options.store.getMeta(API_AUTH_META));
    let secret: string | undefined;
    try {
      secret = config ? this.options.secrets.get(config.kind === 'key' ? API_KEY_ACCOUNT : API_PASSWORD_ACCOUNT) : undefined;
    } catch (e) {
      this.options.log.error({ err: (e as Error).message }, 'the secret store did not give the REST API credentials');
    }
    const props = this.options.properties();
    const key = JSON.stringify([config, secret, props['api.baseUrl'], props['api.version']]);
    if (key === this.credentialsKey) return false;
    this.credentialsKey = key;
    this.credentials =
      config && secret !== undefined
        ? new ApiCredentials(
            config,
            secret,
            () => this.options.api(),
            () => this.options.properties()['api.version'],
            {
              memory: versionMemory(this.options.store, props['api.baseUrl']),
              onVersion: (event) => {
                if (event.kind === 'changed')
                  this.options.log.info(
                    { from: event.from, to: event.to },
                    `the primary no longer serves API version ${event.from}: nbwss now asks for ${event.to}`,
                  );
              },
            },
          )
        : undefined;
    return true;
  }

  private cancel(source: PollSource): void {
    clearTimeout(this.timers.get(source));
    this.timers.delete(source);
    this.nextAt.delete(source);
  }

  private schedule(source: PollSource, ms: number): void {
    if (this.stopped) return;
    this.cancel(source);
    this.nextAt.set(source, Date.now() + ms);
    this.timers.set(
      source,
      setTimeout(() => {
        this.timers.delete(source);
        this.nextAt.delete(source);
        const run = this.pollOnce(source).finally(() => this.running.delete(source));
        this.running.set(source, run);
      }, ms),
    );
  }

  private async pollOnce(source: PollSource): Promise<void> {
    if (this.stopped || !this.enabled(source)) return;
    const rate = this.options.properties()['notification.scheduledRate'] * 1000;
    try {
      const found = source === 'jobs' ? await this.pollJobs() : await this.pollImages();
      if (this.errorsInARow.get(source)) this.options.log.info({ source: source }, 'polling works again');
      this.errorsInARow.delete(source);
      if (found > 0) this.options.log.info({ source: source, notifications: found }, 'poll found notifications');
      this.options.polled?.(source, 'ok', found);
      this.schedule(source, rate);
    } catch (e) {
      if (this.stopped) return;
      if (e instanceof StoreBusy) {
        // Another process held the store's write lock: not the primary's failure. What was committed stays; the round
        // goes on from its cursor a moment later.
        this.options.log.debug({ source: source }, 'poll waits: another process holds the store write lock');
        this.schedule(source, BUSY_RETRY_MAX_MS);
        return;
      }
      const message = (e as Error).message;
      const hint = e instanceof CredentialsRejected ? e.hint : undefined;
      const said = hint ? `${message}. ${hint}` : message;
      this.record(source, said);
      const inARow = (this.errorsInARow.get(source) ?? 0) + 1;
      this.errorsInARow.set(source, inARow);
      const rejected = e instanceof CredentialsRejected || e instanceof NoCredentials;
      this.options.polled?.(source, rejected ? 'rejected' : 'error', 0);
      if (rejected) {
        // No retry storm: the source waits for new credentials (nbwss api key set / api login nudge the daemon).
        this.paused.set(source, said);
        this.options.log.error({ source: source, err: message }, 'polling paused until the REST API credentials change');
        this.schedule(source, AUTH_RETRY_MS);
      } else {
        const delay = Math.min(rate * 2 ** Math.min(inARow - 1, 16), Math.max(MAX_BACKOFF_MS, rate));
        this.options.log.warn({ source: source, err: message, retryInMs: delay }, 'poll failed');
        this.schedule(source, delay);
      }
    }
    this.options.changed();
  }

  private record(source: PollSource, error: string): void {
    try {
      this.options.store.write(() => this.options.store.poll.failed(source, error, this.options.now().toISOString()));
    } catch (e) {
      this.options.log.error({ err: (e as Error).message }, 'could not record the poll error');
    }
  }

  /** GET a path of the API with the daemon's credentials (ApiCredentials.get: the 401 rule in one place). */
  private async get(path: string, okStatuses: readonly number[] = [200]): Promise<JsonAnswer> {
    if (!this.credentials) throw new NoCredentials(`no credentials for NetBackup's REST API: set an API key with ${W.apiKeySet}, or log in with ${W.apiLogin}`);
    const answer = await this.credentials.get(path, this.abort.signal);
    if (!okStatuses.includes(answer.status)) throw new Error(answer.problem);
    return answer;
  }

  private primaryNow(answer: JsonAnswer): number {
    return Math.floor((answer.date ?? this.options.now()).getTime() / 1000);
  }

  /** Queue the notifications and move the cursor in one transaction. */
  private commit(source: PollSource, items: Notification[], cursor: PollCursor, more: () => void): void {
    const now = this.options.now().toISOString();
    const queued = this.options.store.write(() => {
      more();
      const res = items.length ? this.options.store.outbox.enqueue(items, this.options.properties()['notification.maxQueued'], now) : undefined;
      this.options.store.poll.advance(source, cursor, items.length, now);
      return res;
    });
    if (queued) this.options.queued(queued, items.length);
  }

  /** One page of a collection: the items asked for, where the next one is (the primary's paging, checked). */
  private async page(what: string, path: string, asked: PageRequest): Promise<{ page: Page; answer: JsonAnswer }> {
    const answer = await this.get(path);
    const page = readPage(answer.json, PAGE_LIMIT, this.options.api().settings.baseUrl, asked);
    if (!page) throw new Error(`GET ${what} answered without a data array`);
    if (page.oversized !== undefined)
      this.once(
        `oversized:${what}`,
        'warn',
        { sent: page.oversized, asked: PAGE_LIMIT },
        `GET ${what} sent more items than page[limit] asked for: only those asked for are used`,
      );
    if (page.next.kind === 'refused')
      this.once(`refused:${what}:${page.next.why}`, 'warn', { why: page.next.why }, `GET ${what}: the next page is not followed`);
    return { page, answer };
  }

  /** A line logged once per daemon run (a hostile primary could otherwise fill the log). */
  private readonly said = new Set<string>();
  private once(key: string, level: 'warn' | 'info', fields: Record<string, unknown>, msg: string): void {
    if (this.said.has(key) || this.said.size > 1000) return;
    this.said.add(key);
    this.options.log[level](fields, msg);
  }

  /**
   * Jobs, resumed by (lastUpdateTime, jobId): the rest of the cursor's
   * second in jobId order, then what changed after it up to the primary's
   * clock, page by page — each page's notifications queued in the
   * transaction that moves the cursor. The last 30 s are read again first
   * (late writers; repeats are filtered by the state recorded per job).
   */
  private async pollJobs(): Promise<number> {
    const cursor = this.options.store.poll.cursor('jobs');
    if (!cursor) {
      // The first poll: notify what happens from now on, not the primary's history.
      const answer = await this.get(`/admin/jobs?${new URLSearchParams({ sort: '-lastUpdateTime', 'page[limit]': '1' })}`);
      const now = this.primaryNow(answer);
      this.commit('jobs', [], { time: now, ids: [], floor: now }, () => {});
      this.options.log.info({ from: new Date(now * 1000).toISOString() }, 'job polling starts: jobs that change from now on are notified');
      return 0;
    }
    const run: JobRun = { cursor: { ...cursor, ids: [] }, pages: 0, found: 0, ceiling: Number.POSITIVE_INFINITY };
    // Late writers: the overlap, read again within a bound; nothing moves the cursor here.
    const lateFrom = Math.max(cursor.floor, cursor.time - JOBS_OVERLAP_SECONDS);
    await this.readJobs(
      run,
      'late',
      { filter: `lastUpdateTime ge ${iso(lateFrom)} and lastUpdateTime le ${iso(cursor.time)}`, sort: 'lastUpdateTime' },
      MAX_OVERLAP_PAGES,
    );
    // The rest of the cursor's second, in jobId order; then everything after it, up to the primary's clock.
    for (let round = 0; run.pages < MAX_JOB_PAGES && round < MAX_JOB_PAGES; round++) {
      const { time, lastId } = run.cursor;
      const same = await this.readJobs(
        run,
        'second',
        { filter: `lastUpdateTime eq ${iso(time)}${lastId === undefined ? '' : ` and jobId gt ${lastId}`}`, sort: 'jobId' },
        MAX_JOB_PAGES - run.pages,
      );
      if (!same.complete) continue; // a page larger than asked for: read again from where the cursor got to
      const after = await this.readJobs(
        run,
        'after',
        { filter: `lastUpdateTime gt ${iso(run.cursor.time)} and lastUpdateTime le ${iso(run.ceiling)}`, sort: 'lastUpdateTime' },
        MAX_JOB_PAGES - run.pages,
      );
      if (after.complete || after.stuck) break;
    }
    await this.lookAhead(run);
    return run.found;
  }

  /**
   * Read one range of jobs page by page (at most `maxPages`), notifying each
   * job's change once and committing each page with the cursor it reaches.
   * `complete`: the range was read to its end; `stuck`: the primary's paging
   * cannot be followed (nothing more this poll).
   */
  private async readJobs(run: JobRun, range: 'late' | 'second' | 'after', query: { filter: string; sort: string }, maxPages: number) {
    const first = new URLSearchParams({ ...query, 'page[limit]': String(PAGE_LIMIT) });
    let params = first;
    let link: string | undefined;
    let asked: PageRequest = {};
    let lastAt: { time: number; maxId: number } | undefined;
    for (let n = 0; n < maxPages; n++) {
      const { page, answer } = await this.page('/admin/jobs', link ?? `/admin/jobs?${params}`, asked);
      if (run.pages++ === 0) run.ceiling = this.primaryNow(answer) + MAX_CLOCK_SKEW_SECONDS;
      const from = run.cursor;
      // Only what was asked for counts (a primary may ignore the filter): the range, not past the primary's clock.
      const jobs = page.items
        .map((j) => ({ j, id: j.jobId, t: epochSeconds(j.lastUpdateTime) }))
        .filter((x): x is { j: Record<string, unknown>; id: number; t: number } => Number.isSafeInteger(x.id) && x.t !== undefined && x.t <= run.ceiling)
        .filter(({ id, t }) =>
          range === 'late' ? t <= from.time : range === 'second' ? t === from.time && (from.lastId === undefined || id > from.lastId) : t > from.time,
        )
        .sort((a, b) => a.t - b.t || a.id - b.id);
      const next: PollCursor = { ...from, ids: [] };
      if (range === 'second' && jobs.length) next.lastId = jobs[jobs.length - 1]!.id;
      if (range === 'after' && jobs.length) {
        const lastTime = jobs[jobs.length - 1]!.t;
        const maxId = Math.max(...jobs.filter((x) => x.t === lastTime).map((x) => x.id));
        lastAt = lastAt && lastAt.time === lastTime ? { time: lastTime, maxId: Math.max(lastAt.maxId, maxId) } : { time: lastTime, maxId };
        // Within a page sorted by time only, the last second may go on in the next page: it is read again from its start if the poll stops here.
        next.time = lastTime;
        delete next.lastId;
      }
      const items: Notification[] = [];
      this.commit('jobs', items, next, () => {
        const states = this.options.store.poll.jobStates(jobs.map((x) => x.id));
        for (const { j, id, t } of jobs) {
          const change = jobChange(j.state, states.get(id));
          if (!change) continue;
          states.set(id, change);
          this.options.store.poll.setJobState(id, change, t);
          const mapped = jobNotification(j);
          if (mapped.ok) items.push(mapped.notification);
          else
            this.options.log.warn(
              { job: id, problem: safeText(mapped.problem) },
              'a job could not be notified: NetBackup gave it without a field the guide requires',
            );
        }
        this.options.store.poll.pruneJobs(from.time - JOBS_OVERLAP_SECONDS - JOB_MEMORY_SECONDS);
        this.options.store.poll.capJobs(this.options.properties()['api.poll.maxJobStates']);
      });
      run.found += items.length;
      run.cursor = next;
      if (page.oversized !== undefined) return { complete: false, stuck: jobs.length === 0 };
      const nx = page.next;
      if (nx.kind === 'end') {
        // The range is read whole: every job of its last second was seen, so the cursor can name the last of them.
        if (lastAt && range === 'after') {
          run.cursor = { ...run.cursor, time: lastAt.time, lastId: lastAt.maxId };
          this.commit('jobs', [], run.cursor, () => {});
        }
        return { complete: true, stuck: false };
      }
      if (nx.kind === 'refused') return { complete: false, stuck: true };
      if (nx.kind === 'link') {
        link = nx.path;
        asked = {};
      } else {
        params = nextQuery(first, nx);
        link = undefined;
        asked = nx.kind === 'after' ? { cursor: nx.cursor } : { offset: nx.offset };
      }
    }
    return { complete: false, stuck: true };
  }

  /** Jobs dated after the primary's own clock are not read (they would drag the cursor into the future): said once each. */
  private async lookAhead(run: JobRun): Promise<void> {
    this.ahead = undefined;
    if (!Number.isFinite(run.ceiling)) return;
    const query = new URLSearchParams({ filter: `lastUpdateTime gt ${iso(run.ceiling)}`, sort: 'lastUpdateTime', 'page[limit]': '1' });
    const answer = await this.get(`/admin/jobs?${query}`);
    const json = readPage(answer.json, 1, this.options.api().settings.baseUrl, {})?.items[0];
    const newest = epochSeconds(json?.lastUpdateTime);
    if (!json || newest === undefined || newest <= run.ceiling) return;
    this.ahead = `job ${safeText(String(json.jobId))} is dated ${safeText(String(json.lastUpdateTime))}, after the primary's clock (${iso(run.ceiling - MAX_CLOCK_SKEW_SECONDS)}): jobs dated in the future are notified when the primary's clock reaches them`;
    this.once(
      `ahead:${String(json.jobId)}`,
      'warn',
      { job: safeText(String(json.jobId)), lastUpdateTime: safeText(String(json.lastUpdateTime)) },
      "a job is dated after the primary's clock: it is not read until then",
    );
  }

  /** What a poll saw that the administrator should know of (a job dated in the future). */
  private ahead: string | undefined;

  private async pollImages(): Promise<number> {
    const windowHours = this.options.properties()['api.poll.imageWindow'];
    const maxImages = this.options.properties()['api.poll.maxImages'];
    const listed = new Map<string, WatchedImage>();
    let complete = false;
    // The window is measured on the primary's clock: a first small call reads it.
    const probe = await this.get(`/catalog/images?${new URLSearchParams({ 'page[limit]': '1' })}`);
    const observedAt = this.primaryNow(probe);
    const windowStart = observedAt - windowHours * 3600;
    const first = new URLSearchParams({ filter: imagesFilter(windowStart), 'page[limit]': String(PAGE_LIMIT), 'page[offset]': '0' });
    let path = `/catalog/images?${first}`;
    let asked: PageRequest = { offset: 0 };
    for (let n = 0; n < MAX_IMAGE_PAGES && listed.size < maxImages; n++) {
      const { page } = await this.page('/catalog/images', path, asked);
      for (const item of page.items) {
        const watched = watchedImage(item);
        if (watched && watched.backupTime >= windowStart && listed.size < maxImages) listed.set(watched.backupId, watched);
      }
      let nx = page.next;
      // A page larger than asked for: the next offset is the one after what was used (the primary's own would skip the rest).
      if (page.oversized !== undefined)
        nx = asked.offset !== undefined ? { kind: 'offset', offset: asked.offset + PAGE_LIMIT } : { kind: 'refused', why: 'oversized' };
      if (nx.kind === 'end') {
        complete = true;
        break;
      }
      if (nx.kind === 'refused') break;
      if (nx.kind === 'link') {
        path = nx.path;
        asked = {};
      } else {
        path = `/catalog/images?${nextQuery(first, nx)}`;
        asked = nx.kind === 'after' ? { cursor: nx.cursor } : { offset: nx.offset };
      }
    }
    if (!complete)
      this.once(
        'images-incomplete',
        'warn',
        { images: listed.size },
        'more images in the watched window than one poll reads (api.poll.maxImages): deletions are not looked for',
      );
    const cursor = this.options.store.poll.cursor('images');
    if (!cursor) {
      const baseline = [...listed.values()];
      this.commit('images', [], { time: observedAt, ids: [], floor: windowStart }, () => {
        for (const i of baseline) this.options.store.poll.setImage(i);
        this.options.store.poll.capImages(maxImages);
      });
      this.options.log.info({ images: baseline.length }, 'image polling starts: images that appear, change or go from now on are notified');
      return 0;
    }
    const known = this.options.store.poll.images(windowStart);
    const diff = diffImages([...listed.values()], known, windowStart, complete);
    // Offset paging can skip an image while the catalog changes: a missing one is deleted only when the API says 404.
    const deleted: WatchedImage[] = [];
    for (const missing of diff.missing.slice(0, MAX_DELETE_CONFIRMATIONS)) {
      const answer = await this.get(`/catalog/images/${encodeURIComponent(missing.backupId)}`, [200, 404]);
      if (answer.status === 404) deleted.push(missing);
    }
    const items: Notification[] = [];
    const add = (image: WatchedImage, op: 'CREATE' | 'UPDATE' | 'DELETE') => {
      const mapped = imageNotification(image, op, observedAt);
      if (mapped.ok) items.push(mapped.notification);
      else this.options.log.warn({ image: safeText(image.backupId), problem: safeText(mapped.problem) }, 'an image could not be notified');
    };
    for (const i of diff.created) add(i, 'CREATE');
    for (const i of diff.updated) add(i, 'UPDATE');
    for (const i of deleted) add(i, 'DELETE');
    this.commit('images', items, { time: observedAt, ids: [], floor: windowStart }, () => {
      for (const i of [...diff.created, ...diff.updated]) this.options.store.poll.setImage(i);
      for (const i of deleted) this.options.store.poll.deleteImage(i.backupId);
      this.options.store.poll.pruneImages(windowStart);
      this.options.store.poll.capImages(maxImages);
    });
    return items.length;
  }

  status(): SourceStatus[] {
    const stored = new Map(this.options.store.poll.sources().map((s) => [s.source, s]));
    return POLL_SOURCES.map((source) => {
      const status = stored.get(source);
      const at = this.nextAt.get(source);
      return {
        source,
        enabled: this.enabled(source),
        cursor: status?.cursor ? new Date(status.cursor.time * 1000).toISOString() : null,
        lastPollAt: status?.lastPollAt ?? null,
        lastOkAt: status?.lastOkAt ?? null,
        lastError: status?.lastError ?? null,
        events: status?.events ?? 0,
        paused: this.paused.get(source) ?? null,
        nextPollInSeconds: at === undefined ? null : Math.max(0, Math.round((at - Date.now()) / 1000)),
        warning: source === 'jobs' ? (this.ahead ?? null) : null,
      };
    });
  }

  get auth(): string {
    return describeAuth(this.credentials?.config);
  }

  /** The API version the poller asks for (api.version, or the negotiated one), once known. */
  get version(): string | null {
    return this.credentials?.version ?? null;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    for (const s of POLL_SOURCES) this.cancel(s);
    await Promise.allSettled(this.running.values());
  }
}
