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
  const result = store.write(() => store.outbox.enqueue(items, maxQueued, now.toISOString()));
  return { ...result, notifications: items.length };
}

/** The error for groups that refused (exit 8), naming them; undefined when none did. */
export function refusedError(result: NotifyResult, maxQueued: number): NbwssError | undefined {
  if (result.refused.length === 0) return undefined;
  const named = result.refused.map((g) => `${g.groupId} (${g.pending} pending)`).join(', ');
  return new NbwssError(
    'STORE',
    `${result.notifications} notification${result.notifications === 1 ? '' : 's'} refused for server group${result.refused.length === 1 ? '' : 's'} ${named}: the outbox is full (notification.maxQueued=${maxQueued})${result.queued.length ? `; queued for ${result.queued.join(', ')}` : ''}`,
    {
      hint: `The group's cloud has not acknowledged notifications for a long time: see ${W.status}. To keep more, ${W.configSet('notification.maxQueued', String(maxQueued * 2))}`,
    },
  );
}
