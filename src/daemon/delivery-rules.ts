import { epochSeconds } from '../core/nbwss-message.js';
import { BATCH_LIMITS, buildPayload } from '../core/notify/notification.js';
import type { Delivery, PendingRow } from '../core/store/outbox.js';

/**
 * The rules of guaranteed delivery, stop-and-wait per server group (the guide's "NOTIFICATION" messages), as pure
 * functions; `Deliveries` (delivery.ts) applies them with the store, the connections and the timers.
 */

/** A group's message in flight as the rules see it: whether the group's connection now is the one it was last sent on. */
export interface FlightView {
  sentOnThisConnection: boolean;
}

/**
 * What the group's connection gets next: nothing while there is no connection or its message in flight is on it
 * already (stop-and-wait: nothing newer goes out until it is acknowledged); the message in flight again (same id) on
 * a connection that has not had it; else a new batch of the oldest pending notifications, if any.
 */
export function nextDelivery(connected: boolean, inFlight: FlightView | undefined): 'nothing' | 'again' | 'new batch' {
  if (!connected) return 'nothing';
  if (!inFlight) return 'new batch';
  return inFlight.sentOnThisConnection ? 'nothing' : 'again';
}

/**
 * A NOTIFICATION RESPONSE acknowledges the message in flight when it carries its id and an empty payload; one for
 * another id (a late duplicate, a message already acknowledged) or with a payload is not an acknowledgement.
 */
export function responseVerdict(inFlightId: string | undefined, response: { id: string; payload: unknown }): 'acknowledged' | 'not in flight' | 'not empty' {
  if (inFlightId !== response.id) return 'not in flight';
  if (!Array.isArray(response.payload) || response.payload.length !== 0) return 'not empty';
  return 'acknowledged';
}

/**
 * No acknowledgement within notification.scheduledRate: the same message again on the group's connection, or, with
 * none now, as soon as the group connects. A timer of a message no longer in flight (acknowledged, forgotten, the
 * daemon stopping) does nothing.
 */
export function resendDue(stillInFlight: boolean, connected: boolean): 'ignore' | 'send again' | 'when connected' {
  if (!stillInFlight) return 'ignore';
  return connected ? 'send again' : 'when connected';
}

/**
 * A new NOTIFICATION REQUEST from the group's oldest pending notifications (as many as one message takes, in order:
 * buildPayload), and the delivery the store records before it is sent: its id, the last sequence number it covers,
 * how many it carries.
 */
export function newDelivery(groupId: string, pending: readonly PendingRow[], messageId: string, now: Date): { delivery: Delivery; oldestAcceptedAt: string } {
  const { payload, taken } = buildPayload(pending, BATCH_LIMITS);
  const message = `{"version":"1.0","id":"${messageId}","type":"NOTIFICATION","subType":"REQUEST","timeStamp":${epochSeconds(now)},"payload":${payload}}`;
  return {
    delivery: { groupId, messageId, upToSeq: pending[taken - 1]!.seq, count: taken, message, attempts: 0, firstSentAt: now.toISOString() },
    oldestAcceptedAt: pending[0]!.acceptedAt,
  };
}

/** The message with this send's timeStamp (the prefix is nbwss's own, ahead of the payload, so the payload is never touched). */
export function stamped(message: string, timeStamp: number): string {
  return message.replace(/^(\{"version":"1\.0","id":"[^"]*","type":"NOTIFICATION","subType":"REQUEST","timeStamp":)\d+/, `$1${timeStamp}`);
}
