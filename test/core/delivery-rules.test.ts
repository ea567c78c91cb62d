import { describe, expect, it } from 'vitest';
import type { PendingRow } from '../../src/core/store/outbox.js';
import { newDelivery, nextDelivery, resendDue, responseVerdict } from '../../src/daemon/delivery-rules.js';

// The rules of guaranteed delivery as pure functions (src/daemon/delivery-rules.ts). The guide's "NOTIFICATION":
// one REQUEST per batch, "the WebSocket server responds with the same id and an empty payload" to acknowledge it,
// and a message not acknowledged is sent again with its id. test/core/delivery.test.ts runs them against a real store.

describe('nextDelivery: what a group connection gets next (stop-and-wait)', () => {
  it('no connection: nothing', () => {
    expect(nextDelivery(false, undefined)).toBe('nothing');
    expect(nextDelivery(false, { sentOnThisConnection: false })).toBe('nothing');
  });
  it('nothing in flight: a new batch (if anything is pending)', () => {
    expect(nextDelivery(true, undefined)).toBe('new batch');
  });
  it('in flight on this connection already: nothing newer until it is acknowledged', () => {
    expect(nextDelivery(true, { sentOnThisConnection: true })).toBe('nothing');
  });
  it('in flight but not on this connection (a failover, a restart, a take-over): the same message again', () => {
    expect(nextDelivery(true, { sentOnThisConnection: false })).toBe('again');
  });
});

describe('responseVerdict: what acknowledges the message in flight', () => {
  it('its id with an empty payload', () => {
    expect(responseVerdict('A1', { id: 'A1', payload: [] })).toBe('acknowledged');
  });
  it('another id, or nothing in flight: not taken', () => {
    expect(responseVerdict('A1', { id: 'B2', payload: [] })).toBe('not in flight');
    expect(responseVerdict(undefined, { id: 'A1', payload: [] })).toBe('not in flight');
  });
  it('its id with a payload that is not an empty array: not an acknowledgement', () => {
    expect(responseVerdict('A1', { id: 'A1', payload: [{ object: 'JOB' }] })).toBe('not empty');
    expect(responseVerdict('A1', { id: 'A1', payload: {} })).toBe('not empty');
    expect(responseVerdict('A1', { id: 'A1', payload: null })).toBe('not empty');
  });
});

describe('resendDue: notification.scheduledRate passed without an acknowledgement', () => {
  it('still in flight: sent again on the connection there is, or when the group connects', () => {
    expect(resendDue(true, true)).toBe('send again');
    expect(resendDue(true, false)).toBe('when connected');
  });
  it('no longer in flight (acknowledged, forgotten, stopping): nothing', () => {
    expect(resendDue(false, true)).toBe('ignore');
    expect(resendDue(false, false)).toBe('ignore');
  });
});

describe('newDelivery: the next NOTIFICATION REQUEST from the oldest pending', () => {
  const row = (seq: number, object: 'JOB' | 'IMAGE', data: object, acceptedAt = `2026-12-02T12:00:0${seq}.000Z`): PendingRow => ({
    seq,
    object,
    data: JSON.stringify(data),
    acceptedAt,
  });
  const now = new Date('2026-12-02T12:00:10.000Z');

  it("one message in the guide's shape, recorded before it is sent (id, last sequence covered, count, no attempt yet)", () => {
    const { delivery, oldestAcceptedAt } = newDelivery('sg1', [row(4, 'JOB', { jobId: 1 }), row(5, 'JOB', { jobId: 2 })], 'ID-1', now);
    expect(delivery).toEqual({
      groupId: 'sg1',
      messageId: 'ID-1',
      upToSeq: 5,
      count: 2,
      attempts: 0,
      firstSentAt: '2026-12-02T12:00:10.000Z',
      message: `{"version":"1.0","id":"ID-1","type":"NOTIFICATION","subType":"REQUEST","timeStamp":${Math.floor(now.getTime() / 1000)},"payload":[{"notificationType":"INFO","object":"JOB","data":[{"jobId":1},{"jobId":2}]}]}`,
    });
    expect(JSON.parse(delivery.message).payload).toEqual([{ notificationType: 'INFO', object: 'JOB', data: [{ jobId: 1 }, { jobId: 2 }] }]);
    expect(oldestAcceptedAt).toBe('2026-12-02T12:00:04.000Z');
  });

  it('a batch that ends before the order would break (JOB, IMAGE, JOB): it covers up to the last one it carries', () => {
    const { delivery } = newDelivery('sg1', [row(1, 'JOB', { jobId: 1 }), row(2, 'IMAGE', { backupId: 'b' }), row(3, 'JOB', { jobId: 3 })], 'ID-2', now);
    expect(delivery).toMatchObject({ upToSeq: 2, count: 2 });
    expect(JSON.parse(delivery.message).payload.map((e: { object: string }) => e.object)).toEqual(['JOB', 'IMAGE']);
  });
});
