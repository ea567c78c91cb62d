import { NbwssError } from '../errors.js';
import { W } from '../hints.js';
import type { Notification } from '../notify/notification.js';
import type { EndpointStore } from '../store/db.js';
import type { EnqueueResult } from '../store/outbox.js';

export interface NotifyResult extends EnqueueResult {
  notifications: number;
}

/**
 * Queue notifications durably for every server group that has an ACTIVATED
 * endpoint now, in one transaction (the store is opened `durable` by the
 * caller). A group whose outbox has no room for all of them gets none: the
 * result names it, and notifyError() makes that an error after the commit,
 * so the other groups are never held back by one whose cloud is away.
 */
export function queueNotifications(store: EndpointStore, items: readonly Notification[], maxQueued: number, now = new Date()): NotifyResult {
  const r = store.write(() => store.outbox.enqueue(items, maxQueued, now.toISOString()));
  return { ...r, notifications: items.length };
}

/** The error for groups that refused (exit 8), naming them; undefined when none did. */
export function refusedError(r: NotifyResult, maxQueued: number): NbwssError | undefined {
  if (r.refused.length === 0) return undefined;
  const named = r.refused.map((g) => `${g.groupId} (${g.pending} pending)`).join(', ');
  return new NbwssError(
    'STORE',
    `${r.notifications} notification${r.notifications === 1 ? '' : 's'} refused for server group${r.refused.length === 1 ? '' : 's'} ${named}: the outbox is full (notification.maxQueued=${maxQueued})${r.queued.length ? `; queued for ${r.queued.join(', ')}` : ''}`,
    {
      hint: `The group's cloud has not acknowledged notifications for a long time: see ${W.status}. To keep more, ${W.configSet('notification.maxQueued', String(maxQueued * 2))}`,
    },
  );
}
