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
export function epochSeconds(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return Math.floor(value);
  if (typeof value !== 'string' || value === '') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) || ms < 0 ? undefined : Math.floor(ms / 1000);
}

/**
 * FULL → ST_FULL (the guide's word); an ST_ word stays as it is. Jobs of
 * current releases say FULL_BACKUP, DIFFERENTIAL_INCREMENTAL_BACKUP, … where
 * images say FULL, DIFFERENTIAL_INCREMENTAL (the scheduleType enums of
 * admin.yaml and catalog.yaml, NetBackup 10.3–11.2): both become one word.
 */
export function guideScheduleType(value: unknown): string {
  const text = String(value ?? '').trim();
  if (text === '') return 'ST_FULL';
  let up = text.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
  if (up.endsWith('_BACKUP') && up !== 'USER_BACKUP') up = up.slice(0, -'_BACKUP'.length);
  return up.startsWith('ST_') ? up : `ST_${up}`;
}

/** VMware → VMWARE, MS-Windows → MS_WINDOWS (the guide's words). */
export function guidePolicyType(value: unknown): string {
  const text = String(value ?? '')
    .trim()
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
  return text === '' ? 'STANDARD' : text;
}

export type Mapped = { ok: true; notification: Notification } | { ok: false; problem: string };

/**
 * A job's attributes as the JOB notification's data, in the guide's field
 * order. A job without a parent (parentJobId 0 or absent) is its own parent,
 * as the guide's parent job 144 is.
 */
export function jobNotification(attributes: Record<string, unknown>): Mapped {
  const jobId = attributes.jobId;
  const parent = typeof attributes.parentJobId === 'number' && attributes.parentJobId > 0 ? attributes.parentJobId : jobId;
  const data = {
    scheduleType: guideScheduleType(attributes.scheduleType),
    clientName: attributes.clientName,
    status: attributes.status ?? 0,
    startTime: epochSeconds(attributes.startTime),
    state: attributes.state,
    policyName: attributes.policyName ?? '',
    parentJobId: parent,
    jobId,
    policyType: guidePolicyType(attributes.policyType),
    jobType: attributes.jobType,
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
export function watchedImage(attributes: Record<string, unknown>): WatchedImage | undefined {
  const backupTime = epochSeconds(attributes.backupTime);
  if (typeof attributes.backupId !== 'string' || attributes.backupId === '' || typeof attributes.clientName !== 'string' || backupTime === undefined)
    return undefined;
  return {
    backupId: attributes.backupId,
    backupTime,
    clientName: attributes.clientName,
    clientType:
      typeof attributes.clientType === 'string' && attributes.clientType !== ''
        ? guidePolicyType(attributes.clientType)
        : guidePolicyType(attributes.policyType),
    digest: digest(attributes),
  };
}

/** A stable digest of an image's attributes (key order does not matter): a change is an UPDATE. */
export function digest(attributes: Record<string, unknown>): string {
  const canon = (value: unknown): unknown =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(
          Object.keys(value)
            .sort()
            .map((k) => [k, canon((value as Record<string, unknown>)[k])]),
        )
      : Array.isArray(value)
        ? value.map(canon)
        : value;
  return createHash('sha256')
    .update(JSON.stringify(canon(attributes)))
    .digest('hex')
    .slice(0, 32);
}

/**
 * The IMAGE notification's data, in the guide's field order. createdTime is
 * when nbwss saw the operation on the primary's clock: the API does not say
 * when an image record was written, changed or removed.
 */
export function imageNotification(image: WatchedImage, operationId: ImageOperation, observedAt: number): Mapped {
  const data = {
    clientType: image.clientType,
    clientName: image.clientName,
    backupTime: image.backupTime,
    createdTime: observedAt,
    operationId,
    backupId: image.backupId,
  };
  return checked('IMAGE', data, `image ${image.backupId}`);
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
    const previous = known.get(i.backupId);
    if (!previous) created.push(i);
    else if (previous.digest !== i.digest) updated.push(i);
  }
  const missing = complete ? [...known.values()].filter((k) => !seen.has(k.backupId) && k.backupTime >= windowStart) : [];
  return { created, updated, missing };
}

export function imagesFilter(windowStart: number): string {
  return `backupTime ge ${new Date(windowStart * 1000).toISOString()}`;
}
