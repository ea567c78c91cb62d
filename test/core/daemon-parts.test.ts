import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readAudit } from '../../src/core/audit.js';
import { loadProperties, type NbwssProperties } from '../../src/core/config/properties.js';
import { EndpointStore } from '../../src/core/store/db.js';
import { ConnectionStates } from '../../src/daemon/connection-states.js';
import { dropOrphanedOutboxes } from '../../src/daemon/orphaned-outboxes.js';
import { connectionSettings } from '../../src/daemon/connection.js';
import { Metrics } from '../../src/daemon/metrics.js';
import { RestLifecycle } from '../../src/daemon/rest-lifecycle.js';
import { holdWriteLock } from '../helpers/store.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

// The parts the daemon is made of besides its scheduler (src/daemon/daemon.ts), each against a real SQLite store:
// the connection states `list` and `show` read, the outbox drop rule, and the REST client's lifecycle.

afterAll(cleanupTempDirs);
const open: EndpointStore[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

type Line = { level: string; o: object; msg: string };
function recordingLog() {
  const lines: Line[] = [];
  const at = (level: string) => (o: object, msg: string) => void lines.push({ level, o, msg });
  return { lines, log: { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') } };
}

function storeWith(entries: [hostName: string, groupId: string, state?: 'ACTIVATED' | 'DEACTIVATED'][]): EndpointStore {
  const store = EndpointStore.open(join(tempDir(), 'store'));
  open.push(store);
  const now = new Date().toISOString();
  store.write(() => {
    for (const [hostName, groupId, state] of entries)
      store.endpoints.insert(
        {
          hostName,
          url: `wss://${hostName}/nbwss`,
          groupId,
          priority: 1,
          state: state ?? 'ACTIVATED',
          pinType: 'cert',
          certPem: 'x',
          fingerprint: 'AA',
          spkiFingerprint: 'BB',
          notAfter: '2030-01-01T00:00:00.000Z',
        },
        now,
      );
  });
  return store;
}

const tick = () => new Promise<void>((r) => setImmediate(r));
const until = async (check: () => boolean) => {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
};

describe('ConnectionStates: the states list and show read, written in batches', () => {
  const clock = () => new Date('2026-12-02T12:00:00.000Z');

  it('several states in one turn of the event loop are one write, the latest per entry', async () => {
    const store = storeWith([
      ['a.test', 'g1'],
      ['b.test', 'g2'],
    ]);
    const states = new ConnectionStates(store, recordingLog().log, clock);
    states.record({ hostName: 'a.test', groupId: 'g1' }, 'CONNECTED', null);
    states.record({ hostName: 'b.test', groupId: 'g2' }, 'CONNECTED', null);
    states.record({ hostName: 'a.test', groupId: 'g1' }, 'DISCONNECTED', 'closed by the endpoint');
    // Nothing is written in the turn that records: a burst is one transaction.
    expect(store.endpoints.get('a.test')!.connectionState).not.toBe('CONNECTED');
    expect(store.endpoints.get('b.test')!.connectionState).not.toBe('CONNECTED');
    await tick();
    expect(store.endpoints.get('a.test')).toMatchObject({
      connectionState: 'DISCONNECTED',
      lastError: 'closed by the endpoint',
      connectionSince: clock().toISOString(),
    });
    expect(store.endpoints.get('b.test')).toMatchObject({ connectionState: 'CONNECTED', lastError: null });
    states.stop();
  });

  it('while another process holds the write lock the states are kept, and written once it is free', async () => {
    const store = storeWith([['a.test', 'g1']]);
    store.setLockWait(0);
    const { log, lines } = recordingLog();
    const states = new ConnectionStates(store, log, clock);
    const release = holdWriteLock(store);
    states.record({ hostName: 'a.test', groupId: 'g1' }, 'CONNECTED', null);
    await until(() => lines.some((l) => l.msg === "recording connection states: another process holds the store's write lock; trying again"));
    expect(store.endpoints.get('a.test')!.connectionState).not.toBe('CONNECTED');
    release();
    await until(() => store.endpoints.get('a.test')!.connectionState === 'CONNECTED');
    states.stop();
  });

  it('a state once written is not written again by a later flush (the store may have moved on: a take-over resets it)', async () => {
    const store = storeWith([['a.test', 'g1']]);
    const states = new ConnectionStates(store, recordingLog().log, clock);
    states.record({ hostName: 'a.test', groupId: 'g1' }, 'CONNECTED', null);
    await tick();
    expect(store.endpoints.get('a.test')!.connectionState).toBe('CONNECTED');
    store.write(() => store.endpoints.setConnection('a.test', 'DISCONNECTED', clock().toISOString(), 'reset by another daemon'));
    states.flush();
    expect(store.endpoints.get('a.test')).toMatchObject({ connectionState: 'DISCONNECTED', lastError: 'reset by another daemon' });
    states.stop();
  });

  it('after stop() nothing is written on its own: what is left waits for the last flush()', async () => {
    const store = storeWith([['a.test', 'g1']]);
    const states = new ConnectionStates(store, recordingLog().log, clock);
    states.record({ hostName: 'a.test', groupId: 'g1' }, 'CONNECTED', null);
    states.stop();
    await tick();
    await tick();
    expect(store.endpoints.get('a.test')!.connectionState).not.toBe('CONNECTED');
    states.flush();
    expect(store.endpoints.get('a.test')!.connectionState).toBe('CONNECTED');
  });

  it('a group handed to another daemon: its states are not written; the others are', async () => {
    const store = storeWith([
      ['a.test', 'g1'],
      ['b.test', 'g2'],
    ]);
    const states = new ConnectionStates(store, recordingLog().log, clock);
    states.stop(); // written only by flush(), as when stopping
    states.record({ hostName: 'a.test', groupId: 'g1' }, 'CONNECTED', null);
    states.record({ hostName: 'b.test', groupId: 'g2' }, 'CONNECTED', null);
    states.forgetGroup('g1');
    states.flush();
    expect(store.endpoints.get('a.test')!.connectionState).not.toBe('CONNECTED');
    expect(store.endpoints.get('b.test')!.connectionState).toBe('CONNECTED');
  });

  it('flush() throws when the store does not take the states, and keeps them for the next flush()', () => {
    const store = storeWith([['a.test', 'g1']]);
    store.setLockWait(0);
    const states = new ConnectionStates(store, recordingLog().log, clock);
    states.stop();
    states.record({ hostName: 'a.test', groupId: 'g1' }, 'CONNECTED', null);
    const release = holdWriteLock(store);
    expect(() => states.flush()).toThrow();
    release();
    states.flush();
    expect(store.endpoints.get('a.test')!.connectionState).toBe('CONNECTED');
  });
});

describe('dropOrphanedOutboxes: a group with no ACTIVATED endpoint stops collecting', () => {
  const queue = (store: EndpointStore, n: number) =>
    store.write(() =>
      store.outbox.enqueue(
        Array.from({ length: n }, (_, jobId) => ({ object: 'JOB' as const, data: JSON.stringify({ jobId }) })),
        1000,
        new Date().toISOString(),
      ),
    );

  it("its pending notifications are dropped, the deliveries told, and it is said in the log and the audit log; a collecting group's stay", () => {
    const store = storeWith([
      ['a.test', 'g1'],
      ['b.test', 'g2'],
    ]);
    queue(store, 3);
    store.write(() => store.endpoints.setState('a.test', 'DEACTIVATED', new Date().toISOString()));
    const { log, lines } = recordingLog();
    const forgotten: string[] = [];
    dropOrphanedOutboxes(store, log, (g) => forgotten.push(g));
    expect(Object.fromEntries(store.outbox.groups().map((g) => [g.groupId, g.pending]))).toMatchObject({ g2: 3 });
    expect(store.outbox.pendingGroups()).toEqual(['g2']);
    expect(forgotten).toEqual(['g1']);
    expect(lines).toContainEqual({ level: 'warn', o: { group: 'g1', dropped: 3 }, msg: 'notifications dropped: the group has no ACTIVATED endpoint' });
    expect(readAudit(store.home)).toEqual([
      expect.objectContaining({
        command: 'daemon',
        hosts: [],
        outcome: 'ok',
        detail: 'dropped 3 pending notifications of group g1: it has no ACTIVATED endpoint',
      }),
    ]);
    // Once dropped, nothing more to say.
    dropOrphanedOutboxes(store, log, (g) => forgotten.push(g));
    expect(readAudit(store.home)).toHaveLength(1);
  });

  it('a group activated again by another process after the groups were read keeps its notifications and its message in flight (asked again inside the write)', () => {
    const store = storeWith([['a.test', 'g1']]);
    queue(store, 2);
    // What the daemon read a moment ago, before an `nbwss activate` in another process committed: g1 did not collect.
    const outbox = store.outbox;
    outbox.collectingGroups = () => [];
    const forgotten: string[] = [];
    dropOrphanedOutboxes(store, recordingLog().log, (g) => forgotten.push(g));
    expect(store.outbox.groups().map((g) => [g.groupId, g.pending, g.dropped])).toEqual([['g1', 2, 0]]);
    expect(readAudit(store.home)).toEqual([]);
    // Forgetting its message in flight would send the same notifications again under a new id.
    expect(forgotten).toEqual([]);
  });

  it('an audit log that cannot be written is said in the log; the notifications are dropped all the same', () => {
    const store = storeWith([['a.test', 'g1']]);
    queue(store, 2);
    store.write(() => store.endpoints.setState('a.test', 'DEACTIVATED', new Date().toISOString()));
    mkdirSync(join(store.home, 'audit.log'));
    const { log, lines } = recordingLog();
    dropOrphanedOutboxes(store, log, () => {});
    expect(store.outbox.pendingGroups()).toEqual([]);
    expect(lines.filter((l) => l.level === 'error')).toEqual([
      { level: 'error', o: { err: expect.stringContaining('EISDIR') }, msg: 'could not append to the audit log' },
    ]);
  });

  it('one notification is "1 pending notification"', () => {
    const store = storeWith([['a.test', 'g1']]);
    queue(store, 1);
    store.write(() => store.endpoints.setState('a.test', 'DEACTIVATED', new Date().toISOString()));
    dropOrphanedOutboxes(store, recordingLog().log, () => {});
    expect(readAudit(store.home).map((e) => e.detail)).toEqual(['dropped 1 pending notification of group g1: it has no ACTIVATED endpoint']);
  });
});

describe('RestLifecycle: the REST client made again only when its settings or the pin change', () => {
  function setUp() {
    const home = tempDir();
    let props: NbwssProperties = { ...loadProperties(home), 'api.baseUrl': 'https://primary.test:1556/netbackup' };
    let pin: string | undefined;
    const { log, lines } = recordingLog();
    const metrics = new Metrics(storeWith([]), () => new Date());
    const rest = new RestLifecycle({ properties: () => props, pin: () => pin, log, metrics });
    return {
      home,
      rest,
      lines,
      metrics,
      set: (p: Partial<NbwssProperties>) => (props = { ...props, ...p }),
      setPin: (p: string | undefined) => (pin = p),
    };
  }

  it('a refresh with nothing changed keeps the client; a changed property or pin makes a new one, and says so', async () => {
    const { rest, lines, set, setPin } = setUp();
    const first = rest.current;
    rest.refresh();
    expect(rest.current).toBe(first);
    set({ 'api.timeout': 1234 });
    rest.refresh();
    const second = rest.current;
    expect(second).not.toBe(first);
    expect(second.settings.timeoutMs).toBe(1234);
    expect(lines.filter((l) => l.msg === 'REST client settings changed')).toEqual([
      { level: 'info', o: { baseUrl: 'https://primary.test:1556/netbackup' }, msg: 'REST client settings changed' },
    ]);
    set({ 'api.maxBodyBytes': 4096 });
    rest.refresh();
    expect(rest.current.settings.maxBodyBytes).toBe(4096);
    setPin(JSON.stringify({ origin: 'https://primary.test:1556', fingerprint: 'AB:CD', spkiFingerprint: 'EF', certPem: 'x', notAfter: '2030-01-01' }));
    rest.refresh();
    expect(rest.current).not.toBe(second);
    await rest.close();
  });

  it('status shows where the REST service is and how it is trusted: not yet (why), a pin, a CA file; an untrusted one is warned of', async () => {
    const { home, rest, lines, set, setPin } = setUp();
    expect(rest.view()).toEqual({
      baseUrl: 'https://primary.test:1556/netbackup',
      trust: expect.stringMatching(/^none: the REST service's certificate is not trusted yet: the administrator sets api.caFile or runs nbwss api pin/),
    });
    const untrusted = (l: Line) => l.msg === 'COMMAND REQUESTs will be answered 502 until the REST service is trusted';
    expect(lines.filter(untrusted)).toEqual([
      { level: 'warn', o: { baseUrl: 'https://primary.test:1556/netbackup', why: expect.stringContaining('not trusted yet') }, msg: expect.any(String) },
    ]);
    setPin(JSON.stringify({ origin: 'https://primary.test:1556', fingerprint: 'AB:CD', spkiFingerprint: 'EF', certPem: 'x', notAfter: '2030-01-01' }));
    rest.refresh();
    expect(rest.view().trust).toBe('pinned AB:CD');
    const caFile = join(home, 'ca.pem');
    writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
    set({ 'api.caFile': caFile });
    rest.refresh();
    expect(rest.view().trust).toBe('api.caFile');
    expect(rest.current.settings.trust).toEqual({ kind: 'ca', caPem: '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n' });
    // Trusted: no more warnings.
    expect(lines.filter(untrusted)).toHaveLength(1);
    await rest.close();
  });

  it("COMMAND REQUESTs go through the client in force, under api.baseUrl's path; each answer is counted by method and code", async () => {
    const { rest, set, metrics } = setUp();
    expect(rest.commands.basePath()).toBe('/netbackup');
    // Not trusted yet: the client answers 502 itself (no network), naming why.
    const answer = await rest.commands.call({ method: 'GET', path: '/netbackup/admin/jobs', headers: {}, body: undefined }, new AbortController().signal);
    expect(answer).toMatchObject({ responseCode: 502 });
    set({ 'api.baseUrl': 'https://other.test/nb' });
    rest.refresh();
    expect(rest.commands.basePath()).toBe('/nb');
    rest.commands.answered?.('GET', 200, undefined, 0.25);
    rest.commands.answered?.('POST', 502, 'NBWSS_API_TLS', 0.5);
    const text = await metrics.registry.metrics();
    expect(text).toContain('nbwss_commands_total{method="GET",code="200",nbwss_error=""} 1');
    expect(text).toContain('nbwss_commands_total{method="POST",code="502",nbwss_error="NBWSS_API_TLS"} 1');
    expect(text).toContain('nbwss_command_duration_seconds_count{method="POST"} 1');
    await rest.close();
  });
});

describe('connectionSettings: what each connection runs with, from the properties', () => {
  const defaults = (): NbwssProperties => loadProperties(tempDir());

  it('the guide’s properties in their units: seconds become ms, the rest as they are', () => {
    const props = { ...defaults(), 'keepAlive.scheduledRate': 45, 'keepAlive.maxPongMissAllowed': 4, 'notification.sendTimeout': 7000 };
    expect(connectionSettings(props)).toMatchObject({ keepAliveMs: 45_000, maxPongMiss: 4, sendTimeoutMs: 7000, connectTimeoutMs: props['connect.timeout'] });
    expect(connectionSettings({ ...props, 'exception.ignoreDecoder': true }).ignoreDecoder).toBe(true);
    const bounds = { ...props, 'api.maxQueued': 7, 'api.maxQueuedBytes': 1024, 'api.maxSendBuffer': 2048 };
    expect(connectionSettings(bounds)).toMatchObject({ maxCommandsQueued: 7, maxQueuedBytes: 1024, maxSendBufferBytes: 2048 });
  });

  it('REST calls in flight: api.maxInFlight, or with 0 (the default) the guide’s thread pool times eight', () => {
    expect(defaults()['api.maxInFlight']).toBe(0);
    expect(connectionSettings({ ...defaults(), 'scheduledExecutor.threadPoolSize': 3 }).maxCommandsInFlight).toBe(24);
    expect(connectionSettings({ ...defaults(), 'scheduledExecutor.threadPoolSize': 3, 'api.maxInFlight': 5 }).maxCommandsInFlight).toBe(5);
  });
});
