import { appendAudit } from '../core/audit.js';
import type { EndpointStore } from '../core/store/db.js';
import { safeText } from '../core/text.js';
import type { Logger } from './connection.js';

/**
 * The outbox drop rule: a group whose endpoints are all deactivated or deleted stops collecting, and its pending
 * notifications are dropped — said in the log and in the audit log (command `daemon`), with how many. `forget` tells
 * the deliveries to let go of the group's message in flight. Each group is dropped in its own transaction, which
 * asks again whether the group collects: an `activate` or `add` in another process may have committed since the
 * groups were read, and its notifications are then the group's to deliver.
 */
export function dropOrphanedOutboxes(store: EndpointStore, log: Logger, forget: (groupId: string) => void): void {
  const outbox = store.outbox;
  const collecting = new Set(outbox.collectingGroups());
  for (const groupId of outbox.pendingGroups()) {
    // Stryker disable next-line ConditionalExpression: a shortcut; the write asks again whether the group collects
    if (collecting.has(groupId)) continue;
    const dropped = store.write(() => (outbox.collects(groupId) ? undefined : outbox.drop(groupId)));
    // Collecting again (activated meanwhile): its message in flight stays, or its notifications would go again under a new id.
    if (dropped === undefined) continue;
    forget(groupId);
    // Stryker disable next-line ConditionalExpression: a guard; only another daemon dropping it since pendingGroups() was read leaves 0
    if (dropped === 0) continue;
    const detail = `dropped ${dropped} pending notification${dropped === 1 ? '' : 's'} of group ${groupId}: it has no ACTIVATED endpoint`;
    log.warn({ group: safeText(groupId), dropped }, 'notifications dropped: the group has no ACTIVATED endpoint');
    try {
      appendAudit(store.home, { command: 'daemon', hosts: [], detail, outcome: 'ok' });
    } catch (e) {
      log.error({ err: (e as Error).message }, 'could not append to the audit log');
    }
  }
}
