import { randomUUID } from 'node:crypto';
import { epochSeconds, type NbwssMessage } from '../core/nbwss-message.js';
import { BATCH_LIMITS } from '../core/notify/notification.js';
import { newDelivery, nextDelivery, resendDue, responseVerdict, stamped } from './delivery-rules.js';
import type { EndpointStore } from '../core/store/db.js';
import { StoreBusy } from '../core/store/db.js';
import type { Delivery } from '../core/store/outbox.js';
import { safeText } from '../core/text.js';
import type { EndpointConnection, Logger } from './connection.js';
import { StoreRetry } from './store-retry.js';

export interface DeliveryOptions {
  store: EndpointStore;
  log: Logger;
  /** The group's established connection, if any. */
  connectionFor(groupId: string): EndpointConnection | undefined;
  /** notification.scheduledRate in ms: an unacknowledged message is sent again after it. */
  resendMs(): number;
  now(): Date;
  mono(): number;
  /** What happened, for metrics and the live status view. */
  events?: {
    sent?(groupId: string, firstTime: boolean): void;
    acknowledged?(groupId: string, count: number, oldestAcceptedAt: string | undefined): void;
  };
}

interface InFlight extends Delivery {
  /** When its oldest notification was accepted (unknown after a restart). */
  oldestAcceptedAt?: string;
  /** The connection it was last sent on (undefined after a restart). */
  sentOn: EndpointConnection | undefined;
  sentAtMono: number;
  timer: NodeJS.Timeout | undefined;
}

/** A delivery as recorded in the store, not yet sent by this daemon (after a restart, a take-over, or just made). */
const notYetSent = (delivery: Delivery, oldestAcceptedAt?: string): InFlight => ({
  ...delivery,
  oldestAcceptedAt,
  sentOn: undefined,
  sentAtMono: 0,
  timer: undefined,
});

export interface GroupDelivery {
  inFlight: { id: string; count: number; attempts: number; since: string } | null;
}

/**
 * Guaranteed delivery, stop-and-wait, per server group: the oldest pending
 * notifications of a group go out as one NOTIFICATION REQUEST on its
 * established connection; nothing newer goes to that group until a
 * NOTIFICATION RESPONSE with the same id and an empty payload arrives; the
 * same message (same id) is sent again every notification.scheduledRate
 * until then, and on whichever connection of the group comes up next —
 * also after a restart, since the message in flight is in the store.
 * Acknowledged notifications leave the outbox. At least once, in order.
 */
export { stamped } from './delivery-rules.js';

export class Deliveries {
  private readonly flights = new Map<string, InFlight>();
  private stopped = false;
  /** Groups to pump: kept until the batches they start are recorded (another writer's lock, the store away: tried again). */
  private readonly toPump = new Set<string>();
  private readonly pumping: StoreRetry;
  /** Acknowledgements are written, never dropped: kept and written again until the store takes them. */
  private readonly recording: StoreRetry;
  /** Groups taken over whose message in flight is not read from the store yet: nothing is sent to them until it is. */
  private readonly unadopted = new Set<string>();
  private readonly adopting: StoreRetry;

  constructor(private readonly options: DeliveryOptions) {
    // Stryker disable next-line StringLiteral: log wording
    this.pumping = new StoreRetry('sending notifications', options.log, () => this.pumpManyNow());
    // Stryker disable next-line StringLiteral: log wording
    this.recording = new StoreRetry('recording acknowledgements', options.log, () => this.recordAcks());
    // Stryker disable next-line StringLiteral: log wording
    this.adopting = new StoreRetry('taking over messages in flight', options.log, () => this.adoptNow());
    for (const delivery of options.store.outbox.deliveries()) this.flights.set(delivery.groupId, notYetSent(delivery));
  }

  /** Send what is due to every group with something pending or in flight. */
  pumpAll(): void {
    this.pumpMany(new Set([...this.flights.keys(), ...this.options.store.outbox.pendingGroups()]));
  }

  pump(groupId: string): void {
    this.pumpMany([groupId]);
  }

  /**
   * Send what is due to each group: the message in flight if the group's
   * connection has not had it, else the next batch. The new messages of all
   * the groups are recorded in one transaction, before any is sent.
   */
  private pumpMany(groups: Iterable<string>): void {
    for (const g of groups) this.toPump.add(g);
    this.pumping.run();
  }

  private pumpManyNow(): void {
    // Stryker disable next-line ConditionalExpression: a guard; after stop() the pumping retry (StoreRetry) never calls this
    if (this.stopped) return;
    const groups = [...this.toPump];
    // Acknowledged but not yet recorded: its rows are still pending; recordAcks() starts its next batch.
    const unrecorded = new Set(this.acks.map((a) => a.groupId));
    const { sends, started } = this.nextMessages(groups.filter((g) => !unrecorded.has(g)));
    // Nothing is sent that is not recorded: if this write fails, nothing of this round was sent and it runs again.
    // Stryker disable next-line ConditionalExpression: an empty transaction writes nothing
    if (started.length)
      this.options.store.write(() => {
        for (const d of started) this.options.store.outbox.startDelivery(d);
      });
    for (const g of groups) this.toPump.delete(g);
    this.sendAll(sends);
  }

  /**
   * What each group's connection gets next: the message in flight if that connection has not had it, else a new
   * batch of the oldest pending notifications (in `started`: recorded before it is sent). Reads, never writes.
   */
  private nextMessages(groups: readonly string[]): { sends: [InFlight, EndpointConnection][]; started: Delivery[] } {
    const sends: [InFlight, EndpointConnection][] = [];
    const started: Delivery[] = [];
    for (const groupId of groups) {
      // A new batch now would send its pending notifications again under a new id, beside the message in flight.
      if (this.unadopted.has(groupId)) continue;
      const conn = this.options.connectionFor(groupId);
      const flight = this.flights.get(groupId);
      const next = nextDelivery(conn !== undefined, flight && { sentOnThisConnection: flight.sentOn === conn });
      if (next === 'again') sends.push([flight!, conn!]);
      if (next !== 'new batch') continue;
      const pending = this.options.store.outbox.pending(groupId, BATCH_LIMITS.maxElements);
      if (pending.length === 0) continue;
      const { delivery, oldestAcceptedAt } = newDelivery(groupId, pending, randomUUID().toUpperCase(), this.options.now());
      started.push(delivery);
      sends.push([notYetSent(delivery, oldestAcceptedAt), conn!]);
    }
    return { sends, started };
  }

  private sendAll(sends: readonly [InFlight, EndpointConnection][]): void {
    for (const [f, conn] of sends) {
      this.flights.set(f.groupId, f);
      this.send(f, conn);
    }
  }

  private send(flight: InFlight, conn: EndpointConnection): void {
    clearTimeout(flight.timer);
    flight.attempts++;
    flight.sentOn = conn;
    flight.sentAtMono = this.options.mono();
    if (flight.attempts > 1) {
      this.options.log.info(
        // Stryker disable next-line StringLiteral,ObjectLiteral: log wording
        { group: flight.groupId, host: conn.target.hostName, id: flight.messageId, count: flight.count, attempts: flight.attempts },
        // Stryker disable next-line StringLiteral: log wording
        'notifications sent again (same id)',
      );
      try {
        this.options.store.write(() => this.options.store.outbox.recordAttempts(flight.groupId, flight.messageId, flight.attempts));
      } catch (e) {
        // Only the count of attempts is not recorded (status shows it); the message itself is.
        if (!(e instanceof StoreBusy)) this.options.log.error({ group: flight.groupId, err: (e as Error).message }, 'could not record a delivery attempt');
      }
      // Stryker disable next-line StringLiteral,ObjectLiteral: log wording
    } else this.options.log.debug({ group: flight.groupId, host: conn.target.hostName, id: flight.messageId, count: flight.count }, 'notifications sent');
    this.options.events?.sent?.(flight.groupId, flight.attempts === 1);
    // The guide's timeStamp is when the message is sent: each send carries its own; the id (what a cloud drops duplicates by) stays.
    void conn.sendNotification(stamped(flight.message, epochSeconds(this.options.now())));
    // No acknowledgement within notification.scheduledRate: the same message again, on the group's connection then.
    flight.timer = setTimeout(() => {
      const conn = this.options.connectionFor(flight.groupId);
      // Stryker disable next-line ConditionalExpression,LogicalOperator: a guard; acknowledging, forgetting and stopping clear this timer already
      const due = resendDue(this.flights.get(flight.groupId) === flight && !this.stopped, conn !== undefined);
      if (due === 'send again') this.send(flight, conn!);
      // Stryker disable next-line ConditionalExpression: a message no longer in flight is never read again
      else if (due === 'when connected') flight.sentOn = undefined;
    }, this.options.resendMs());
  }

  /** A NOTIFICATION RESPONSE arrived on a connection of `groupId`. */
  onResponse(groupId: string, response: NbwssMessage): void {
    const inFlight = this.flights.get(groupId);
    const verdict = responseVerdict(inFlight?.messageId, response);
    if (verdict === 'not in flight') {
      // Stryker disable next-line StringLiteral,ObjectLiteral: log wording
      this.options.log.debug({ group: groupId, id: safeText(response.id) }, 'NOTIFICATION RESPONSE for no message in flight ignored');
      return;
    }
    if (verdict === 'not empty') {
      // Stryker disable next-line StringLiteral,ObjectLiteral: log wording
      this.options.log.warn({ group: groupId, id: inFlight!.messageId }, 'NOTIFICATION RESPONSE with a non-empty payload: not taken as an acknowledgement');
      return;
    }
    const flight = inFlight!;
    clearTimeout(flight.timer);
    this.flights.delete(groupId);
    // Acknowledgements that arrive together (several groups under load) are recorded in one transaction.
    this.acks.push(flight);
    // Stryker disable next-line ConditionalExpression: one write per turn of the loop; scheduling more finds nothing left to write
    if (this.acks.length === 1) setImmediate(() => this.recording.run());
  }

  private readonly acks: InFlight[] = [];

  /** Write the acknowledgements waiting (one transaction); throws, keeping them, if the store does not take them. */
  private recordAcks(): void {
    // Stryker disable next-line ConditionalExpression,LogicalOperator: a guard (nothing is recorded after stop(); the recording retry is stopped as well)
    if (this.stopped || this.acks.length === 0) return;
    const acks = [...this.acks];
    const now = this.options.now().toISOString();
    // The acknowledgements and the groups' next batches in one transaction: one commit per round of a backlog, not two.
    // Stryker disable next-line ArrayDeclaration,ObjectLiteral: always replaced inside the write; unused if the write throws
    let next: ReturnType<Deliveries['nextMessages']> = { sends: [], started: [] };
    const removed = this.options.store.write(() => {
      const results = acks.map((f) => this.options.store.outbox.acknowledge(f.groupId, f.messageId, now));
      // A group with nothing left pending has no next batch: not looked for (at 100 groups, half the reads of a round).
      // Stryker disable next-line ConditionalExpression,EqualityOperator,MethodExpression: looking anyway finds nothing (a cost, not a behaviour)
      next = this.nextMessages(acks.filter((_, i) => results[i]!.stillPending > 0).map((f) => f.groupId));
      for (const d of next.started) this.options.store.outbox.startDelivery(d);
      return results.map((r) => r.removed);
    });
    this.acks.splice(0, acks.length);
    acks.forEach((flight, i) => {
      this.options.log.info(
        // Stryker disable all: log fields
        {
          group: flight.groupId,
          id: flight.messageId,
          count: removed[i] ?? 0,
          attempts: flight.attempts,
          ms: Math.round(this.options.mono() - flight.sentAtMono),
        },
        // Stryker restore all
        // Stryker disable next-line StringLiteral: log wording
        'notifications acknowledged',
      );
      this.options.events?.acknowledged?.(flight.groupId, removed[i] ?? 0, flight.oldestAcceptedAt);
    });
    this.sendAll(next.sends);
  }

  /** The group no longer collects (no ACTIVATED endpoint): forget what was in flight. */
  forget(groupId: string): void {
    const flight = this.flights.get(groupId);
    // Stryker disable next-line ConditionalExpression: a forgotten message's timer finds it no longer in flight and does nothing (the guard in send())
    if (flight) clearTimeout(flight.timer);
    this.flights.delete(groupId);
    this.unadopted.delete(groupId);
  }

  /**
   * A group taken over from another daemon of a shared store: its message in
   * flight is the one in the store (sent by the other daemon), sent again
   * with its id on this daemon's connection. Until the store has been read
   * (tried again while it does not answer), nothing is sent to the group.
   */
  adopt(groupId: string): void {
    this.forget(groupId);
    this.unadopted.add(groupId);
    this.adopting.run();
  }

  private adoptNow(): void {
    // Stryker disable next-line ConditionalExpression,LogicalOperator: a guard; after stop() the adopting retry never calls this, and with nothing to adopt the loop does nothing
    if (this.stopped || this.unadopted.size === 0) return;
    const inStore = this.options.store.outbox.deliveries();
    for (const groupId of [...this.unadopted]) {
      const delivery = inStore.find((x) => x.groupId === groupId);
      if (delivery) this.flights.set(groupId, notYetSent(delivery));
      this.unadopted.delete(groupId);
      // If its connection is up already (the store answered late), it gets its message now, not at the next event.
      this.toPump.add(groupId);
    }
    this.pumping.run();
  }

  status(groupId: string): GroupDelivery {
    const flight = this.flights.get(groupId);
    return { inFlight: flight ? { id: flight.messageId, count: flight.count, attempts: flight.attempts, since: flight.firstSentAt } : null };
  }

  stop(): void {
    // Stryker disable next-line BooleanLiteral: pumping and recording are stopped too (StoreRetry.stop), so nothing runs after stop() either way
    this.stopped = true;
    this.pumping.stop();
    this.recording.stop();
    this.adopting.stop();
    for (const f of this.flights.values()) clearTimeout(f.timer);
  }
}
