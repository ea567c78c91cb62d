import { createHash } from 'node:crypto';
import { checkData, type Notification } from '../notify/notification.js';

/**
 * From NetBackup's REST API to the guide's notifications, pure: which job
 * changes and image changes are notified, and the fields they carry. The
 * API speaks ISO 8601 times and its own enumeration words; the guide's
 * notifications carry epoch seconds, `ST_`-prefixed schedule types and
 * upper-case policy types (examples A–G).
 */

export type JobState = 'QUEUED' | 'ACTIVE' | 'DONE';
const NOTIFIED_STATES: readonly string[] = ['QUEUED', 'ACTIVE', 'DONE'];

/** ISO 8601 (or epoch seconds) → whole epoch seconds; undefined when not a time. */
export function epochSeconds(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.floor(v);
  if (typeof v !== 'string' || v === '') return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) || ms < 0 ? undefined : Math.floor(ms / 1000);
}

/**
 * FULL → ST_FULL (the guide's word); an ST_ word stays as it is. Jobs of
 * current releases say FULL_BACKUP, DIFFERENTIAL_INCREMENTAL_BACKUP, … where
 * images say FULL, DIFFERENTIAL_INCREMENTAL (the scheduleType enums of
 * admin.yaml and catalog.yaml, NetBackup 10.3–11.2): both become one word.
 */
export function guideScheduleType(v: unknown): string {
  const s = String(v ?? '').trim();
  if (s === '') return 'ST_FULL';
  let up = s.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
  if (up.endsWith('_BACKUP') && up !== 'USER_BACKUP') up = up.slice(0, -'_BACKUP'.length);
  return up.startsWith('ST_') ? up : `ST_${up}`;
}

/** VMware → VMWARE, MS-Windows → MS_WINDOWS (the guide's words). */
export function guidePolicyType(v: unknown): string {
  const s = String(v ?? '')
    .trim()
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
  return s === '' ? 'STANDARD' : s;
}

export type Mapped = { ok: true; notification: Notification } | { ok: false; problem: string };

/**
 * A job's attributes as the JOB notification's data, in the guide's field
 * order. A job without a parent (parentJobId 0 or absent) is its own parent,
 * as the guide's parent job 144 is.
 */
export function jobNotification(a: Record<string, unknown>): Mapped {
  const jobId = a.jobId;
  const parent = typeof a.parentJobId === 'number' && a.parentJobId > 0 ? a.parentJobId : jobId;
  const data = {
    scheduleType: guideScheduleType(a.scheduleType),
    clientName: a.clientName,
    status: a.status ?? 0,
    startTime: epochSeconds(a.startTime),
    state: a.state,
    policyName: a.policyName ?? '',
    parentJobId: parent,
    jobId,
    policyType: guidePolicyType(a.policyType),
    jobType: a.jobType,
  };
  return checked('JOB', data, `job ${String(jobId)}`);
}

export type ImageOperation = 'CREATE' | 'UPDATE' | 'DELETE';

/** What nbwss keeps of an image it watches: enough to notify its deletion. */
export interface WatchedImage {
  backupId: string;
  backupTime: number;
  clientName: string;
  clientType: string;
  digest: string;
}

/** An image's attributes as nbwss watches them; undefined when they lack an id, a client or a backup time. */
export function watchedImage(a: Record<string, unknown>): WatchedImage | undefined {
  const backupTime = epochSeconds(a.backupTime);
  if (typeof a.backupId !== 'string' || a.backupId === '' || typeof a.clientName !== 'string' || backupTime === undefined) return undefined;
  return {
    backupId: a.backupId,
    backupTime,
    clientName: a.clientName,
    clientType: typeof a.clientType === 'string' && a.clientType !== '' ? guidePolicyType(a.clientType) : guidePolicyType(a.policyType),
    digest: digest(a),
  };
}

/** A stable digest of an image's attributes (key order does not matter): a change is an UPDATE. */
export function digest(a: Record<string, unknown>): string {
  const canon = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, canon((v as Record<string, unknown>)[k])]),
        )
      : Array.isArray(v)
        ? v.map(canon)
        : v;
  return createHash('sha256')
    .update(JSON.stringify(canon(a)))
    .digest('hex')
    .slice(0, 32);
}

/**
 * The IMAGE notification's data, in the guide's field order. createdTime is
 * when nbwss saw the operation on the primary's clock: the API does not say
 * when an image record was written, changed or removed.
 */
export function imageNotification(i: WatchedImage, operationId: ImageOperation, observedAt: number): Mapped {
  const data = {
    clientType: i.clientType,
    clientName: i.clientName,
    backupTime: i.backupTime,
    createdTime: observedAt,
    operationId,
    backupId: i.backupId,
  };
  return checked('IMAGE', data, `image ${i.backupId}`);
}

function checked(object: 'JOB' | 'IMAGE', data: Record<string, unknown>, what: string): Mapped {
  try {
    return { ok: true, notification: { object, data: checkData(object, data, what) } };
  } catch (e) {
    return { ok: false, problem: (e as Error).message.replace(/; nothing was queued$/, '') };
  }
}

/**
 * The job change rule: a job is notified when it reaches QUEUED, ACTIVE or
 * DONE and that differs from what was last notified for it; after DONE
 * never again (the guide: DONE "whether the job succeeded or failed", once).
 * Other states (SUSPENDED, WAITING_FOR_RETRY, INCOMPLETE, …) are not
 * notified and leave the last notified state as it was.
 */
export function jobChange(state: unknown, lastNotified: string | undefined): JobState | undefined {
  if (typeof state !== 'string' || !NOTIFIED_STATES.includes(state)) return undefined;
  if (lastNotified === 'DONE' || lastNotified === state) return undefined;
  return state as JobState;
}

export interface ImageDiff {
  created: WatchedImage[];
  updated: WatchedImage[];
  /** Known images missing from a complete listing: candidates for DELETE (confirmed one by one before notifying). */
  missing: WatchedImage[];
}

/**
 * Compare a listing of the watched window with what is known of it. Images
 * older than the window are neither listed nor missing: they are forgotten.
 * `complete` is false when the listing was cut short: then nothing is missing.
 */
export function diffImages(listed: readonly WatchedImage[], known: ReadonlyMap<string, WatchedImage>, windowStart: number, complete: boolean): ImageDiff {
  const created: WatchedImage[] = [];
  const updated: WatchedImage[] = [];
  const seen = new Set<string>();
  for (const i of listed) {
    if (seen.has(i.backupId)) continue;
    seen.add(i.backupId);
    const k = known.get(i.backupId);
    if (!k) created.push(i);
    else if (k.digest !== i.digest) updated.push(i);
  }
  const missing = complete ? [...known.values()].filter((k) => !seen.has(k.backupId) && k.backupTime >= windowStart) : [];
  return { created, updated, missing };
}

export function imagesFilter(windowStart: number): string {
  return `backupTime ge ${new Date(windowStart * 1000).toISOString()}`;
}
