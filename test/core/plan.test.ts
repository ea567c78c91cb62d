import { describe, expect, it } from 'vitest';
import { endedAsFailure, type Failure, nextFailure, type PlanConnection, type PlanEndpoint, plan, SHORT_LIVED_MS } from '../../src/daemon/plan.js';

// The daemon's decisions against every rule of the guide's "Notes on NetBackup
// connections to cloud-applications", with a fake monotonic clock.

const ep = (account: string, groupId: string, priority: number, extra: Partial<PlanEndpoint> = {}): PlanEndpoint => ({
  account,
  groupId,
  priority,
  url: `wss://${account}/x`,
  pin: 'cert|AA|BB',
  token: 't',
  ...extra,
});
const live = (e: PlanEndpoint, state: PlanConnection['state'] = 'established', extra: Partial<PlanConnection> = {}): PlanConnection => ({
  account: e.account,
  groupId: e.groupId,
  state,
  url: e.url,
  pin: e.pin,
  token: e.token,
  ...extra,
});
const none = new Map<string, Failure>();

describe('plan: which endpoint serves a group', () => {
  it('a group without a connection connects to the highest priority (lowest number) first, then the next', () => {
    const e1 = ep('ep1', 'sg1', 1);
    const e2 = ep('ep2', 'sg1', 2);
    const e3 = ep('ep3', 'sg1', 3);
    expect(plan({ endpoints: [e3, e1, e2], connections: [], failures: none, now: 0 })).toEqual([
      { kind: 'connect', groupId: 'sg1', candidates: ['ep1', 'ep2', 'ep3'] },
    ]);
  });

  it('ties are broken by host name, so the order never depends on the store', () => {
    expect(plan({ endpoints: [ep('b', 'g', 1), ep('a', 'g', 1)], connections: [], failures: none, now: 0 })).toEqual([
      { kind: 'connect', groupId: 'g', candidates: ['a', 'b'] },
    ]);
  });

  it('each group is planned on its own', () => {
    const actions = plan({ endpoints: [ep('a1', 'A', 1), ep('b1', 'B', 1)], connections: [], failures: none, now: 0 });
    expect(actions).toEqual([
      { kind: 'connect', groupId: 'A', candidates: ['a1'] },
      { kind: 'connect', groupId: 'B', candidates: ['b1'] },
    ]);
  });

  it('at most one connection per group: a group with a connection, even one still connecting, gets nothing more', () => {
    const e1 = ep('ep1', 'sg1', 1);
    const e2 = ep('ep2', 'sg1', 2);
    expect(plan({ endpoints: [e1, e2], connections: [live(e2)], failures: none, now: 0 })).toEqual([]);
    expect(plan({ endpoints: [e1, e2], connections: [live(e1, 'connecting')], failures: none, now: 0 })).toEqual([]);
  });

  it('no preemption: ep1 (priority 1) back online does not close the working ep2 (priority 2)', () => {
    const e1 = ep('ep1', 'sg1', 1);
    const e2 = ep('ep2', 'sg1', 2);
    const actions = plan({ endpoints: [e1, e2], connections: [live(e2)], failures: new Map([['ep1', { count: 3, nextAt: -1 }]]), now: 10_000 });
    expect(actions).toEqual([]);
  });

  it('a group whose endpoints are all deactivated or deleted is not connected', () => {
    expect(plan({ endpoints: [], connections: [], failures: none, now: 0 })).toEqual([]);
  });
});

describe('plan: what is closed', () => {
  it('a deactivated or deleted endpoint is disconnected, and its group picks again in the same plan', () => {
    const e1 = ep('ep1', 'sg1', 1);
    const e2 = ep('ep2', 'sg1', 2);
    expect(plan({ endpoints: [e2], connections: [live(e1)], failures: none, now: 0 })).toEqual([
      { kind: 'close', account: 'ep1', why: 'deactivated or deleted' },
      { kind: 'connect', groupId: 'sg1', candidates: ['ep2'] },
    ]);
  });

  it.each([
    ['url', { url: 'wss://elsewhere/x' }, 'url changed'],
    ['pin', { pin: 'spki|CC|DD' }, 'pin changed'],
    ['token', { token: 'new' }, 'token changed'],
    ['group', { groupId: 'sg2' }, 'group changed'],
  ] as const)('a connection whose %s changed is closed and reopened', (_what, change, why) => {
    const e1 = ep('ep1', 'sg1', 1);
    const now = { ...e1, ...change };
    const actions = plan({ endpoints: [now], connections: [live(e1)], failures: none, now: 0 });
    expect(actions[0]).toEqual({ kind: 'close', account: 'ep1', why });
    expect(actions[1]).toEqual({ kind: 'connect', groupId: now.groupId, candidates: ['ep1'] });
  });

  it('an unchanged connection is left alone', () => {
    const e1 = ep('ep1', 'sg1', 1);
    expect(plan({ endpoints: [e1], connections: [live(e1)], failures: none, now: 0 })).toEqual([]);
  });
});

describe('plan: back-off on a monotonic clock', () => {
  it('an endpoint in back-off is skipped for the next priority; when all are, the plan says when to look again', () => {
    const e1 = ep('ep1', 'sg1', 1);
    const e2 = ep('ep2', 'sg1', 2);
    const failures = new Map([['ep1', { count: 1, nextAt: 1_000 }]]);
    expect(plan({ endpoints: [e1, e2], connections: [], failures, now: 500 })).toEqual([
      { kind: 'connect', groupId: 'sg1', candidates: ['ep2'] },
      { kind: 'retryAt', at: 1_000 },
    ]);
    failures.set('ep2', { count: 2, nextAt: 2_500 });
    expect(plan({ endpoints: [e1, e2], connections: [], failures, now: 500 })).toEqual([{ kind: 'retryAt', at: 1_000 }]);
    expect(plan({ endpoints: [e1, e2], connections: [], failures, now: 1_000 })).toEqual([
      { kind: 'connect', groupId: 'sg1', candidates: ['ep1'] },
      { kind: 'retryAt', at: 2_500 },
    ]);
  });

  it('delays grow 1, 2, 4 … s and never exceed the period', () => {
    let f: Failure | undefined;
    const delays: number[] = [];
    let now = 1_000_000;
    for (let i = 0; i < 7; i++) {
      f = nextFailure(f, now, 10_000);
      delays.push(f.nextAt - now);
      now = f.nextAt;
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000]);
    expect(f!.count).toBe(7);
  });

  it('only the monotonic clock counts: plan takes no wall time at all', () => {
    const e1 = ep('ep1', 'sg1', 1);
    const failures = new Map([['ep1', nextFailure(undefined, 5_000, 60_000)]]);
    // Whatever the wall clock did (a step back of an hour), at monotonic 6,000 the retry is due.
    expect(plan({ endpoints: [e1], connections: [], failures, now: 6_000 })).toEqual([{ kind: 'connect', groupId: 'sg1', candidates: ['ep1'] }]);
  });

  it('a connection that lived under 5 s, or died of missed pongs or a decoder error, counts as a failure', () => {
    expect(endedAsFailure(SHORT_LIVED_MS - 1, 'closed by the endpoint (1000)')).toBe(true);
    expect(endedAsFailure(SHORT_LIVED_MS, 'closed by the endpoint (1000)')).toBe(false);
    expect(endedAsFailure(60_000, '11 pongs missed in a row')).toBe(true);
    expect(endedAsFailure(60_000, 'decoder error: not JSON')).toBe(true);
    // Whoever closes, the same back-off: nbwss's own protocol closes count too.
    expect(endedAsFailure(60_000, 'closed by nbwss (1007): not a valid NBWSS message: not valid UTF-8')).toBe(true);
    expect(endedAsFailure(60_000, 'closed by nbwss (1009): a message of 2097152 bytes, larger than 1048576')).toBe(true);
    expect(endedAsFailure(60_000, 'closed by nbwss (1011): the endpoint read nothing for notification.sendTimeout (2000 ms)')).toBe(true);
    expect(endedAsFailure(60_000, 'closed by the endpoint (1000)')).toBe(false);
  });
});

describe('plan: one group planned alone', () => {
  // The daemon plans a group's own events (a close, a failed attempt) from that group's endpoints and their
  // connections only, so that failover costs the same whatever the number of groups. That is sound because a group's
  // decisions depend on nothing outside it: checked here over many generated states (a fixed seed: repeatable).
  it("gives the group the same connect and a retry no later than the whole plan's, whatever the other groups do", () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 300; round++) {
      const endpoints: PlanEndpoint[] = [];
      for (let i = 0; i < 2 + rand(12); i++) endpoints.push(ep(`ep${i}`, `g${rand(4)}`, 1 + rand(3)));
      const connections = endpoints.filter(() => rand(3) === 0).map((e) => live(e, rand(2) ? 'established' : 'connecting'));
      const failures = new Map<string, Failure>(endpoints.filter(() => rand(2) === 0).map((e) => [e.account, { count: 1, nextAt: rand(2000) }]));
      const now = 1000;
      const whole = plan({ endpoints, connections, failures, now });
      for (const g of new Set(endpoints.map((e) => e.groupId))) {
        const mine = endpoints.filter((e) => e.groupId === g);
        const alone = plan({ endpoints: mine, connections: connections.filter((c) => mine.some((e) => e.account === c.account)), failures, now });
        const connectOf = (as: ReturnType<typeof plan>) => as.find((a) => a.kind === 'connect' && a.groupId === g);
        expect(connectOf(alone), `round ${round} group ${g}`).toEqual(connectOf(whole));
        const retryOf = (as: ReturnType<typeof plan>) => as.find((a) => a.kind === 'retryAt');
        const aloneRetry = retryOf(alone);
        // Alone, the group's retry is its own back-off: the whole plan's earliest (maybe another group's) is never later.
        if (aloneRetry) expect(aloneRetry.kind === 'retryAt' && aloneRetry.at).toBeGreaterThanOrEqual((retryOf(whole) as { at: number }).at);
        expect(alone.filter((a) => a.kind === 'close')).toEqual([]);
      }
    }
  });
});
