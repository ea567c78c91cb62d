import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { DB_FILE, EndpointStore, SCHEMA_VERSION } from '../../src/core/store/db.js';
import { ENTRIES, OUTBOX, POLL_STATE, render, SHARED_STEPS } from '../../src/core/store/schema.js';
import type { EndpointConnection } from '../../src/daemon/connection.js';
import { Deliveries, type DeliveryOptions } from '../../src/daemon/delivery.js';
import { BUSY_RETRY_MAX_MS, FAILED_RETRY_MAX_MS, retryDelayMs, StoreRetry } from '../../src/daemon/store-retry.js';
import { StoreBusy } from '../../src/core/store/db.js';
import { holdWriteLock } from '../helpers/store.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

// The delivery side against a real SQLite store and a stand-in connection
// that records what it is asked to send: stop-and-wait, the same message on
// resend, and acknowledgements that race a nudge.

afterAll(cleanupTempDirs);
const open: EndpointStore[] = [];
afterEach(() => {
  vi.useRealTimers();
  for (const s of open.splice(0)) s.close();
});

const silent = { info() {}, warn() {}, error() {}, debug() {} };

/** An ACTIVATED entry of group `groupId` (inside a write). */
function insertEndpoint(store: EndpointStore, hostName: string, groupId: string): void {
  store.endpoints.insert(
    {
      hostName,
      url: `wss://${hostName}/nbwss`,
      groupId,
      priority: 1,
      state: 'ACTIVATED',
      pinType: 'cert',
      certPem: 'x',
      fingerprint: 'AA',
      spkiFingerprint: 'BB',
      notAfter: '2030-01-01T00:00:00.000Z',
    },
    new Date().toISOString(),
  );
}

function setUp(groups = ['sg1'], events?: DeliveryOptions['events']) {
  const store = EndpointStore.open(join(tempDir(), 'store'));
  open.push(store);
  store.write(() => {
    for (const [i, g] of groups.entries()) insertEndpoint(store, `h${i}.test`, g);
  });
  const sent = new Map<string, string[]>();
  const waiters = new Set<() => void>();
  /** Resolves once `n` messages were sent to group g. */
  const waitSent = (g: string, n: number) =>
    new Promise<void>((r) => {
      const w = () => {
        if ((sent.get(g)?.length ?? 0) < n) return;
        waiters.delete(w);
        r();
      };
      waiters.add(w);
      w();
    });
  const conns = new Map(
    groups.map((g) => [
      g,
      {
        target: { hostName: `${g}-host`, groupId: g },
        sendNotification: (text: string) => {
          sent.set(g, [...(sent.get(g) ?? []), text]);
          for (const w of [...waiters]) w();
          return Promise.resolve(true);
        },
      } as unknown as EndpointConnection,
    ]),
  );
  let resendMs = 60_000;
  const d = new Deliveries({
    store,
    log: silent,
    connectionFor: (g) => conns.get(g),
    resendMs: () => resendMs,
    now: () => new Date(),
    mono: () => performance.now(),
    events,
  });
  const queue = (ids: number[]) =>
    store.write(() =>
      store.outbox.enqueue(
        ids.map((jobId) => ({ object: 'JOB' as const, data: JSON.stringify({ jobId }) })),
        1000,
        new Date().toISOString(),
      ),
    );
  const ack = (g: string, text: string) =>
    d.onResponse(g, { version: '1.0', id: JSON.parse(text).id, type: 'NOTIFICATION', subType: 'RESPONSE', timeStamp: 0, payload: [] });
  const jobIds = (text: string) => (JSON.parse(text).payload as { data: { jobId: number }[] }[]).flatMap((e) => e.data.map((x) => x.jobId));
  return { store, d, sent, conns, queue, ack, jobIds, waitSent, setResend: (ms: number) => (resendMs = ms) };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('a resend’s timeStamp', () => {
  it('stamped() puts this send’s time in the header and never touches the payload', async () => {
    const { stamped } = await import('../../src/daemon/delivery.js');
    const m = '{"version":"1.0","id":"A-1","type":"NOTIFICATION","subType":"REQUEST","timeStamp":100,"payload":[{"data":[{"timeStamp":100}]}]}';
    expect(stamped(m, 250)).toBe(
      '{"version":"1.0","id":"A-1","type":"NOTIFICATION","subType":"REQUEST","timeStamp":250,"payload":[{"data":[{"timeStamp":100}]}]}',
    );
    expect(stamped('{"other":1,"timeStamp":100}', 250)).toBe('{"other":1,"timeStamp":100}');
  });
});

describe('Deliveries', () => {
  it('stop-and-wait: nothing newer until the acknowledgement, then the next batch at once', async () => {
    const { d, sent, queue, ack, jobIds, store } = setUp();
    queue([1, 2]);
    d.pumpAll();
    queue([3]);
    d.pumpAll();
    expect(sent.get('sg1')!.map(jobIds)).toEqual([[1, 2]]);
    ack('sg1', sent.get('sg1')![0]!);
    await tick();
    expect(sent.get('sg1')!.map(jobIds)).toEqual([[1, 2], [3]]);
    ack('sg1', sent.get('sg1')![1]!);
    await tick();
    expect(store.outbox.groups()[0]).toMatchObject({ pending: 0, acknowledged: 3 });
    d.stop();
  });

  it('a group with nothing pending is sent nothing: not when its connection comes, not after its last acknowledgement', async () => {
    const { d, sent, queue, ack, store } = setUp(['sg1', 'sg2']);
    d.pump('sg1'); // connected, nothing queued yet
    expect(sent.get('sg1')).toBeUndefined();
    queue([1]);
    d.pumpAll();
    ack('sg1', sent.get('sg1')![0]!);
    await tick();
    d.pump('sg1'); // a reconnection with the queue empty again
    d.pumpAll();
    expect(sent.get('sg1')).toHaveLength(1);
    expect(store.outbox.deliveries().map((x) => x.groupId)).toEqual(['sg2']);
    d.stop();
  });

  it('an acknowledgement racing a nudge: the acknowledged batch is never built again', async () => {
    const { d, sent, queue, ack, jobIds } = setUp();
    queue([1, 2, 3]);
    d.pumpAll();
    ack('sg1', sent.get('sg1')![0]!);
    queue([4]);
    d.pumpAll(); // before the acknowledgement is recorded
    await tick();
    expect(sent.get('sg1')!.map(jobIds)).toEqual([[1, 2, 3], [4]]);
    d.stop();
  });

  it('a wrong id, or a payload that is not empty, acknowledges nothing', async () => {
    const { d, sent, queue, jobIds } = setUp();
    queue([1]);
    d.pumpAll();
    const id = JSON.parse(sent.get('sg1')![0]!).id;
    d.onResponse('sg1', { version: '1.0', id: 'OTHER', type: 'NOTIFICATION', subType: 'RESPONSE', timeStamp: 0, payload: [] });
    d.onResponse('sg1', { version: '1.0', id, type: 'NOTIFICATION', subType: 'RESPONSE', timeStamp: 0, payload: [{}] });
    d.onResponse('sg2', { version: '1.0', id, type: 'NOTIFICATION', subType: 'RESPONSE', timeStamp: 0, payload: [] });
    await tick();
    expect(d.status('sg1').inFlight).toMatchObject({ id, count: 1, attempts: 1 });
    queue([2]);
    d.pumpAll();
    expect(sent.get('sg1')!.map(jobIds)).toEqual([[1]]);
    d.stop();
  });

  it('no acknowledgement within the resend time: the same text again but for its timeStamp, and the attempt recorded for a restart', async () => {
    const { d, sent, queue, store, setResend, waitSent } = setUp();
    setResend(20);
    queue([1]);
    d.pumpAll();
    await waitSent('sg1', 2);
    // Stopped before looking: on a loaded machine a third resend may already have gone (every 20 ms).
    d.stop();
    const unstamped = (t: string) => t.replace(/"timeStamp":\d+/, '"timeStamp":0');
    expect(unstamped(sent.get('sg1')![1]!)).toBe(unstamped(sent.get('sg1')![0]!));
    expect(store.outbox.deliveries()[0]).toMatchObject({ attempts: sent.get('sg1')!.length });
    expect(unstamped(store.outbox.deliveries()[0]!.message)).toBe(unstamped(sent.get('sg1')![0]!));
    // A new daemon on the same store sends the recorded message again, same id.
    const again = new Deliveries({
      store,
      log: silent,
      connectionFor: () =>
        ({
          target: { hostName: 'x', groupId: 'sg1' },
          sendNotification: (t: string) => {
            sent.get('sg1')!.push(t);
            return Promise.resolve(true);
          },
        }) as never,
      resendMs: () => 60_000,
      now: () => new Date(),
      mono: () => performance.now(),
    });
    const before = sent.get('sg1')!.length;
    again.pumpAll();
    // The same message but for this send's timeStamp (a second may have passed since the first).
    expect(sent.get('sg1')!.slice(before).map(unstamped)).toEqual([unstamped(sent.get('sg1')![0]!)]);
    again.stop();
  });

  it('several groups: each gets its own stop-and-wait, acknowledgements recorded together', async () => {
    const { d, sent, queue, ack, jobIds, store } = setUp(['a', 'b', 'c']);
    queue([1]);
    d.pumpAll();
    queue([2]);
    for (const g of ['a', 'b', 'c']) ack(g, sent.get(g)![0]!);
    d.pumpAll();
    await tick();
    for (const g of ['a', 'b', 'c']) expect(sent.get(g)!.map(jobIds)).toEqual([[1], [2]]);
    expect(store.outbox.groups().map((g) => g.acknowledged)).toEqual([1, 1, 1]);
    d.stop();
  });
});

const until = async (check: () => boolean) => {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
};

describe('Deliveries while another process holds the write lock (the daemon does not wait for it)', () => {
  it('an acknowledgement is kept, written once the lock is free, and only then is the next batch built: nothing dropped, nothing sent twice', async () => {
    const { d, sent, queue, ack, jobIds, store } = setUp();
    store.setLockWait(0);
    queue([1, 2]);
    d.pumpAll();
    queue([3]);
    const release = holdWriteLock(store);
    ack('sg1', sent.get('sg1')![0]!);
    await tick();
    await tick();
    // Not recorded: the acknowledged rows are still pending and the next batch waits.
    expect(store.outbox.groups()[0]).toMatchObject({ pending: 3, acknowledged: 0 });
    expect(sent.get('sg1')!.length).toBe(1);
    release();
    await until(() => sent.get('sg1')!.length === 2);
    expect(sent.get('sg1')!.map(jobIds)).toEqual([[1, 2], [3]]);
    expect(store.outbox.groups()[0]).toMatchObject({ pending: 1, acknowledged: 2 });
    d.stop();
  });

  it('a batch that cannot be recorded is not sent; it goes out once the lock is free', async () => {
    const { d, sent, queue, jobIds, store } = setUp();
    store.setLockWait(0);
    queue([7]);
    const release = holdWriteLock(store);
    d.pumpAll();
    expect(sent.get('sg1')).toBeUndefined();
    expect(store.outbox.deliveries()).toEqual([]);
    release();
    await until(() => (sent.get('sg1')?.length ?? 0) === 1);
    expect(sent.get('sg1')!.map(jobIds)).toEqual([[7]]);
    expect(store.outbox.deliveries()).toMatchObject([{ groupId: 'sg1', count: 1 }]);
    d.stop();
  });

  it('a write that waits for the lock fails with StoreBusy, not a generic store error (SQLite busy_timeout)', () => {
    const { store } = setUp();
    store.setLockWait(0);
    const release = holdWriteLock(store);
    try {
      expect(() => store.write(() => store.setMeta('k', 'v'))).toThrow(StoreBusy);
    } finally {
      release();
    }
    store.write(() => store.setMeta('k', 'v'));
    expect(store.getMeta('k')).toBe('v');
  });
});

describe('retryDelayMs and StoreRetry', () => {
  it('soon after a busy lock, backing off while the store is away, each with its ceiling', () => {
    expect([1, 2, 3, 4, 5, 10].map((n) => retryDelayMs(true, n))).toEqual([50, 100, 200, 400, BUSY_RETRY_MAX_MS, BUSY_RETRY_MAX_MS]);
    expect([1, 2, 3, 4, 5, 6, 50].map((n) => retryDelayMs(false, n))).toEqual([250, 500, 1000, 2000, 4000, FAILED_RETRY_MAX_MS, FAILED_RETRY_MAX_MS]);
  });

  it('an outage is said once (error) and its end once (info); a busy lock only at debug level; the write is tried until it is taken', () => {
    vi.useFakeTimers();
    try {
      const said: [string, string][] = [];
      const log = {
        debug: (_o: object, m: string) => said.push(['debug', m]),
        info: (_o: object, m: string) => said.push(['info', m]),
        warn: (_o: object, m: string) => said.push(['warn', m]),
        error: (_o: object, m: string) => said.push(['error', m]),
      };
      const failures: (Error | undefined)[] = [new Error('gone'), new Error('gone'), new StoreBusy('STORE', 'busy'), undefined];
      let attempts = 0;
      const r = new StoreRetry('writing', log, () => {
        attempts++;
        const e = failures.shift();
        if (e) throw e;
      });
      expect(r.run()).toBe(false);
      expect(r.run()).toBe(false); // a retry is waiting: it writes, not this call
      expect(attempts).toBe(1);
      vi.advanceTimersByTime(retryDelayMs(false, 1));
      expect(attempts).toBe(2);
      vi.advanceTimersByTime(retryDelayMs(false, 2));
      expect(attempts).toBe(3);
      vi.advanceTimersByTime(retryDelayMs(true, 3));
      expect(attempts).toBe(4);
      expect(said.map(([level]) => level)).toEqual(['error', 'debug', 'info']);
      expect(r.run()).toBe(true);
      r.stop();
      expect(r.run()).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });
});

// What mutation testing (npm run mutate) found no test for: each case fails if the rule it names is removed.
describe('Deliveries: the rest of the rules', () => {
  it('stamped() changes only a header at the start of the message', async () => {
    const { stamped } = await import('../../src/daemon/delivery.js');
    const inner = 'x{"version":"1.0","id":"A","type":"NOTIFICATION","subType":"REQUEST","timeStamp":1}';
    expect(stamped(inner, 2)).toBe(inner);
  });

  it('a message id is an upper-case UUID', () => {
    const { d, sent, queue } = setUp();
    queue([1]);
    d.pumpAll();
    expect(JSON.parse(sent.get('sg1')![0]!).id).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
    d.stop();
  });

  it('events: sent (first time, then again), acknowledged with the count and when the oldest was accepted', async () => {
    const seen: unknown[][] = [];
    const { d, sent, queue, ack, setResend, waitSent, store } = setUp(['sg1'], {
      sent: (g, first) => seen.push(['sent', g, first]),
      acknowledged: (g, n, oldest) => seen.push(['acknowledged', g, n, oldest]),
    });
    queue([1, 2]);
    const accepted = store.outbox.pending('sg1', 10)[0]!.acceptedAt;
    setResend(20);
    d.pumpAll();
    await waitSent('sg1', 2);
    setResend(60_000);
    ack('sg1', sent.get('sg1')![0]!);
    await tick();
    d.stop();
    expect(seen[0]).toEqual(['sent', 'sg1', true]);
    expect(seen.slice(1, -1).every((e) => e[0] === 'sent' && e[2] === false)).toBe(true);
    expect(seen.at(-1)).toEqual(['acknowledged', 'sg1', 2, accepted]);
  });

  it('a resend finds the group without a connection: nothing sent then, the message goes again (same id) when it is back', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { d, sent, conns, queue, setResend, waitSent } = setUp();
    const conn = conns.get('sg1')!;
    queue([1]);
    setResend(20);
    d.pumpAll();
    conns.delete('sg1');
    vi.advanceTimersByTime(100); // several resend times pass without a connection
    vi.useRealTimers();
    expect(sent.get('sg1')).toHaveLength(1);
    setResend(60_000);
    conns.set('sg1', conn);
    d.pump('sg1');
    await waitSent('sg1', 2);
    expect(JSON.parse(sent.get('sg1')![1]!).id).toBe(JSON.parse(sent.get('sg1')![0]!).id);
    d.stop();
  });

  it('after stop(), no resend', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { d, sent, queue, setResend } = setUp();
    queue([1]);
    setResend(20);
    d.pumpAll();
    d.stop();
    vi.advanceTimersByTime(100);
    vi.useRealTimers();
    expect(sent.get('sg1')).toHaveLength(1);
  });

  it('forget(): the message in flight is no longer this daemon’s; adopt(): the store’s message goes again with its id', async () => {
    const { d, sent, queue, store } = setUp();
    queue([1]);
    d.pumpAll();
    const id = JSON.parse(sent.get('sg1')![0]!).id;
    d.forget('sg1');
    expect(d.status('sg1').inFlight).toBeNull();
    d.adopt('sg1'); // as a daemon taking the group over: the message recorded in the store
    expect(d.status('sg1').inFlight).toMatchObject({ id, count: 1 });
    d.pump('sg1');
    expect(sent.get('sg1')!.map((t) => JSON.parse(t).id)).toEqual([id, id]);
    store.write(() => store.outbox.drop('sg1'));
    d.adopt('sg1'); // nothing in flight in the store any more
    expect(d.status('sg1').inFlight).toBeNull();
    d.stop();
  });
});

describe('Outbox: bounds, drops and unknown acknowledgements', () => {
  const now = '2026-12-02T12:00:00.000Z';
  const items = (n: number) => Array.from({ length: n }, (_, i) => ({ object: 'JOB' as const, data: JSON.stringify({ jobId: i }) }));

  it('a group is queued while all fit under maxQueued, refused (named with its pending count, counted) once they do not', () => {
    const { store } = setUp(['a']);
    expect(store.write(() => store.outbox.enqueue(items(2), 3, now))).toEqual({ queued: ['a'], refused: [] });
    expect(store.write(() => store.outbox.enqueue(items(1), 3, now))).toEqual({ queued: ['a'], refused: [] });
    expect(store.write(() => store.outbox.enqueue(items(1), 3, now))).toEqual({ queued: [], refused: [{ groupId: 'a', pending: 3 }] });
    expect(store.outbox.groups()[0]).toMatchObject({ pending: 3, refused: 1, lastRefusedAt: now });
  });

  it('7,000 notifications in one run: written in chunks (one statement could not bind them all), every one in order', () => {
    const { store } = setUp(['a']);
    store.write(() => store.outbox.enqueue(items(7000), 100_000, now));
    const rows = store.outbox.pending('a', 10_000);
    expect(rows.map((r) => JSON.parse(r.data).jobId)).toEqual([...Array(7000).keys()]);
  });

  it('drop(): a group’s pending notifications and its message in flight go, counted as dropped', () => {
    const { d, store, queue } = setUp(['a', 'b']);
    queue([1, 2]);
    d.pumpAll();
    d.stop();
    expect(store.write(() => store.outbox.drop('a'))).toBe(2);
    expect(store.write(() => store.outbox.drop('a'))).toBe(0); // nothing left to drop
    expect(store.outbox.deliveries().map((x) => x.groupId)).toEqual(['b']);
    expect(store.outbox.groups().find((g) => g.groupId === 'a')).toMatchObject({ pending: 0, dropped: 2 });
    expect(store.outbox.groups().find((g) => g.groupId === 'b')).toMatchObject({ pending: 2, dropped: 0 });
  });

  it('an acknowledgement for a message the store does not hold removes nothing', () => {
    const { store, queue } = setUp(['a']);
    queue([1]);
    expect(store.write(() => store.outbox.acknowledge('a', 'NO-SUCH-ID', now))).toEqual({ removed: 0, stillPending: 1 });
    expect(store.write(() => store.outbox.acknowledge('no-such-group', 'NO-SUCH-ID', now))).toEqual({ removed: 0, stillPending: 0 });
    expect(store.outbox.groups()[0]).toMatchObject({ pending: 1, acknowledged: 0 });
  });
});

describe('Outbox: each notification stored once, a queue per group', () => {
  const now = '2026-12-02T12:00:00.000Z';
  const job = (jobId: number) => ({ object: 'JOB' as const, data: JSON.stringify({ jobId }) });
  const stored = (store: EndpointStore) => store.exportTable('notifications').length;
  const pendingIds = (store: EndpointStore, g: string) => store.outbox.pending(g, 1000).map((r) => JSON.parse(r.data).jobId as number);
  /** Acknowledge everything pending of group g (as the daemon does: a delivery recorded, then its acknowledgement). */
  const ackAll = (store: EndpointStore, g: string) =>
    store.write(() => {
      const rows = store.outbox.pending(g, 1000);
      store.outbox.startDelivery({
        groupId: g,
        messageId: `M-${g}`,
        upToSeq: rows.at(-1)!.seq,
        count: rows.length,
        message: '{}',
        attempts: 1,
        firstSentAt: now,
      });
      return store.outbox.acknowledge(g, `M-${g}`, now).removed;
    });

  it('one row per notification however many groups wait for it; it leaves the store when the last group acknowledges it', () => {
    const { store } = setUp(['a', 'b', 'c']);
    store.write(() => store.outbox.enqueue([job(1), job(2)], 10, now));
    expect(stored(store)).toBe(2);
    for (const g of ['a', 'b', 'c']) expect(pendingIds(store, g)).toEqual([1, 2]);
    expect(ackAll(store, 'a')).toBe(2);
    expect(ackAll(store, 'b')).toBe(2);
    expect(stored(store)).toBe(2); // c still waits for them
    expect(ackAll(store, 'c')).toBe(2);
    expect(stored(store)).toBe(0);
    // Nothing pending, no queue left to skip at the next enqueue.
    expect(store.exportTable('group_queues')).toEqual([]);
    expect(store.outbox.groups().map((g) => `${g.groupId}:${g.pending}:${g.acknowledged}`)).toEqual(['a:0:2', 'b:0:2', 'c:0:2']);
  });

  it('a refused batch is not the full group’s: it gets what comes after, in order; the store keeps only what some group still needs', () => {
    const { store } = setUp(['a', 'b']);
    store.write(() => store.outbox.enqueue([job(1), job(2)], 2, now));
    // a and b are full: 3 and 4 are refused for both, so not stored.
    expect(store.write(() => store.outbox.enqueue([job(3), job(4)], 2, now)).refused.map((r) => r.groupId)).toEqual(['a', 'b']);
    expect(stored(store)).toBe(2);
    ackAll(store, 'b');
    // b has room, a has not: 5 and 6 for b only.
    expect(store.write(() => store.outbox.enqueue([job(5), job(6)], 2, now))).toMatchObject({ queued: ['b'], refused: [{ groupId: 'a', pending: 2 }] });
    ackAll(store, 'b');
    // 5 and 6 were b's alone: gone; a's 1 and 2 stay. Later ones reach both again, a's after its gap.
    expect(stored(store)).toBe(2);
    ackAll(store, 'a');
    store.write(() => store.outbox.enqueue([job(7)], 2, now));
    expect(pendingIds(store, 'a')).toEqual([7]);
    expect(pendingIds(store, 'b')).toEqual([7]);
    expect(store.outbox.groups().map((g) => `${g.groupId}:${g.pending}:${g.refused}`)).toEqual(['a:1:4', 'b:1:2']);
  });

  it('a group that is full while the others go on keeps the store bounded: what only the others need leaves as they acknowledge it', () => {
    const { store } = setUp(['a', 'b']);
    store.write(() => store.outbox.enqueue([job(0)], 1, now)); // a is full from now on (its cloud away)
    ackAll(store, 'b');
    for (let i = 1; i <= 50; i++) {
      store.write(() => store.outbox.enqueue([job(i)], 1, now));
      ackAll(store, 'b');
    }
    expect(stored(store)).toBe(1); // job 0, for a
    expect(pendingIds(store, 'a')).toEqual([0]);
    expect(store.outbox.groups().find((g) => g.groupId === 'a')).toMatchObject({ pending: 1, refused: 50 });
    // Fifty refusals in a row are one gap, not fifty rows.
    expect(store.exportTable('group_gaps')).toEqual([{ group_id: 'a', from_seq: 2, to_seq: 51 }]);
  });

  it('a group that starts collecting gets what is queued from then on, not what came before; one that stops collecting misses what is queued meanwhile', () => {
    const { store } = setUp(['a']);
    store.write(() => store.outbox.enqueue([job(1)], 10, now));
    store.write(() => insertEndpoint(store, 'late.test', 'late'));
    store.write(() => store.outbox.enqueue([job(2)], 10, now));
    expect(pendingIds(store, 'late')).toEqual([2]);
    // late stops collecting with 2 pending (not yet dropped by a daemon): 3 is not its; 4, once it collects again, is.
    store.write(() => store.endpoints.setState('late.test', 'DEACTIVATED', now));
    store.write(() => store.outbox.enqueue([job(3)], 10, now));
    store.write(() => store.endpoints.setState('late.test', 'ACTIVATED', now));
    store.write(() => store.outbox.enqueue([job(4)], 10, now));
    expect(pendingIds(store, 'late')).toEqual([2, 4]);
    expect(pendingIds(store, 'a')).toEqual([1, 2, 3, 4]);
    expect(store.outbox.groups().find((g) => g.groupId === 'late')).toMatchObject({ pending: 2 });
    // Dropped: its notifications go with it, the others' stay.
    expect(store.write(() => store.outbox.drop('a'))).toBe(4);
    expect(store.exportTable('notifications').map((r) => JSON.parse(String(r.data)).jobId)).toEqual([2, 4]);
  });
});

describe('Outbox: a store of schema 5 (one outbox row per notification and group) is upgraded in place', () => {
  it('each group keeps exactly its pending notifications, in order, and its message in flight; acknowledged, they leave the store once no group needs them', () => {
    const home = tempDir();
    mkdirSync(home, { recursive: true, mode: 0o700 });
    const old = new Database(join(home, DB_FILE));
    // Schema 5, from the same definitions nbwss 0.x applied: steps 1–4 and the first shared step.
    old.exec(render(ENTRIES + OUTBOX + POLL_STATE + SHARED_STEPS[0]!, 'sqlite'));
    old.exec("INSERT INTO meta (key, value) VALUES ('store_id', 'aaaaaaaaaaaaaaaaaaaaaaaa'), ('notification_seq', '5')");
    const entry = old.prepare(
      `INSERT INTO endpoints (host_name, url, group_id, priority, state, fingerprint, spki_fingerprint, not_after, created_at, updated_at)
       VALUES (?, 'wss://x.test/', ?, 1, 'ACTIVATED', 'AA', 'BB', '2030-01-01T00:00:00.000Z', 'now', 'now')`,
    );
    entry.run('a.test', 'a');
    entry.run('b.test', 'b');
    const row = old.prepare("INSERT INTO outbox (group_id, seq, object, data, accepted_at) VALUES (?, ?, 'JOB', ?, ?)");
    // a: 1, 2, 3 (4 was refused for a: full); b: 2, 3, 4 (it started collecting after 1).
    for (const [g, seq] of [
      ['a', 1],
      ['a', 2],
      ['a', 3],
      ['b', 2],
      ['b', 3],
      ['b', 4],
    ] as const)
      row.run(g, seq, JSON.stringify({ jobId: seq }), `2026-12-02T12:00:0${seq}.000Z`);
    old.exec(`INSERT INTO deliveries VALUES ('a', 'M-A', 2, 2, '{"id":"M-A"}', 1, '2026-12-02T12:01:00.000Z')`);
    old.pragma('user_version = 5');
    old.close();

    const store = EndpointStore.open(home);
    open.push(store);
    expect(store.schemaVersion).toBe(SCHEMA_VERSION);
    const ids = (g: string) => store.outbox.pending(g, 100).map((r) => JSON.parse(r.data).jobId as number);
    expect(ids('a')).toEqual([1, 2, 3]);
    expect(ids('b')).toEqual([2, 3, 4]);
    expect(store.outbox.groups().map((g) => `${g.groupId}:${g.pending}:${g.oldestAcceptedAt}`)).toEqual([
      'a:3:2026-12-02T12:00:01.000Z',
      'b:3:2026-12-02T12:00:02.000Z',
    ]);
    expect(store.outbox.deliveries()).toMatchObject([{ groupId: 'a', messageId: 'M-A', upToSeq: 2, count: 2 }]);
    expect(store.exportTable('notifications')).toHaveLength(4);
    // The message in flight is acknowledged as before: 1 and 2 leave a's queue; 1 (a's alone) leaves the store.
    expect(store.write(() => store.outbox.acknowledge('a', 'M-A', '2026-12-02T12:02:00.000Z'))).toEqual({ removed: 2, stillPending: 1 });
    expect(ids('a')).toEqual([3]);
    expect(store.exportTable('notifications').map((r) => r.seq)).toEqual([2, 3, 4]);
    // New notifications follow the old ones, for both.
    store.write(() => store.outbox.enqueue([{ object: 'JOB', data: JSON.stringify({ jobId: 5 }) }], 10, 'now'));
    expect(ids('a')).toEqual([3, 5]);
    expect(ids('b')).toEqual([2, 3, 4, 5]);
  });
});

describe('Deliveries: a group without a connection, resends in the log, a take-over per group', () => {
  it('a group without a connection: no batch is built or recorded; it goes out when the group connects', () => {
    const { d, sent, conns, queue, store } = setUp();
    const conn = conns.get('sg1')!;
    conns.delete('sg1');
    queue([1]);
    d.pumpAll();
    expect(store.outbox.deliveries()).toEqual([]);
    conns.set('sg1', conn);
    d.pump('sg1');
    expect(sent.get('sg1')).toHaveLength(1);
    d.stop();
  });

  it('a group taken over while the store does not answer: nothing goes to it (no new batch under a new id) until its message in flight is read; then that message, same id', async () => {
    const { d, sent, queue, store } = setUp();
    queue([1]);
    d.pumpAll();
    const id = JSON.parse(sent.get('sg1')![0]!).id;
    // Another daemon's group, taken over just after the store came back on one connection but not yet on this one.
    const read = store.outbox.deliveries.bind(store.outbox);
    store.outbox.deliveries = () => {
      throw new Error('the store cannot be read: Connection terminated');
    };
    d.adopt('sg1');
    d.pumpAll();
    expect(sent.get('sg1')).toHaveLength(1);
    expect(d.status('sg1').inFlight).toBeNull();
    store.outbox.deliveries = read;
    // The next try (FAILED_RETRY_MS later) reads it and sends it on the group's connection, unasked.
    await vi.waitFor(() => expect(sent.get('sg1')).toHaveLength(2), { timeout: 10_000 });
    expect(JSON.parse(sent.get('sg1')![1]!).id).toBe(id);
    d.stop();
  });

  it('only a resend is logged at info as "sent again", with its attempt', async () => {
    const infos: [Record<string, unknown>, string][] = [];
    const store = EndpointStore.open(join(tempDir(), 'store'));
    open.push(store);
    const sent: string[] = [];
    let resend = 20;
    const d = new Deliveries({
      store,
      log: { ...silent, info: (o: Record<string, unknown>, m: string) => void infos.push([o, m]) },
      connectionFor: () =>
        ({
          target: { hostName: 'h', groupId: 'sg1' },
          sendNotification: (t: string) => {
            sent.push(t);
            return Promise.resolve(true);
          },
        }) as never,
      resendMs: () => resend,
      now: () => new Date(),
      mono: () => performance.now(),
    });
    store.write(() => {
      insertEndpoint(store, 'h.test', 'sg1');
      store.outbox.enqueue([{ object: 'JOB', data: '{"jobId":1}' }], 10, new Date().toISOString());
    });
    d.pumpAll();
    expect(infos.filter(([, m]) => m.includes('sent again'))).toEqual([]);
    await vi.waitFor(() => expect(sent.length).toBeGreaterThanOrEqual(2));
    resend = 60_000;
    d.stop();
    expect(infos.find(([, m]) => m === 'notifications sent again (same id)')?.[0]).toMatchObject({ group: 'sg1', attempts: 2 });
  });

  it('adopt() takes the message the store holds for that group, not another group’s', () => {
    const { d, sent, queue } = setUp(['a', 'b']);
    queue([1]);
    d.pumpAll();
    const idOf = (g: string) => JSON.parse(sent.get(g)![0]!).id;
    d.adopt('b');
    expect(d.status('b').inFlight?.id).toBe(idOf('b'));
    d.adopt('a');
    expect(d.status('a').inFlight?.id).toBe(idOf('a'));
    d.stop();
  });
});
