import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { EndpointStore } from '../../src/core/store/db.js';
import type { EndpointConnection } from '../../src/daemon/connection.js';
import { Deliveries } from '../../src/daemon/delivery.js';
import { BUSY_RETRY_MAX_MS, FAILED_RETRY_MAX_MS, retryDelayMs, StoreRetry } from '../../src/daemon/store-retry.js';
import { StoreBusy } from '../../src/core/store/db.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

// The delivery side against a real SQLite store and a stand-in connection
// that records what it is asked to send: stop-and-wait, the same message on
// resend, and acknowledgements that race a nudge.

afterAll(cleanupTempDirs);
const open: EndpointStore[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

const silent = { info() {}, warn() {}, error() {}, debug() {} };

function setUp(groups = ['sg1']) {
  const store = EndpointStore.open(join(tempDir(), 'store'));
  open.push(store);
  store.write(() => {
    for (const [i, g] of groups.entries())
      store.insert(
        {
          hostName: `h${i}.test`,
          url: `wss://h${i}.test/nbwss`,
          groupId: g,
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
  return { store, d, sent, queue, ack, jobIds, waitSent, setResend: (ms: number) => (resendMs = ms) };
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
    expect(sent.get('sg1')!.slice(before)).toEqual([sent.get('sg1')![0]]);
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

/** Another process's write transaction on the same SQLite store (as nbwss notify holds it), until release(). */
function holdWriteLock(store: EndpointStore) {
  const other = new Database(join(store.home, 'nbwss.db'));
  other.exec('BEGIN IMMEDIATE');
  return () => {
    other.exec('COMMIT');
    other.close();
  };
}

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
