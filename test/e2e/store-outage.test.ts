import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startDaemon } from '../helpers/daemon.js';
import { jobNotification } from '../helpers/setup.js';
import { alive, deliveredEverywhere, expectSurvived, noneOpen, openOnce, outage, said, useStoreFaults } from '../helpers/store-faults.js';
import { until, untilAsync } from '../helpers/wait.js';

/*
 * The shared store away, injected through the real server: PostgreSQL stopped (pg_ctl stop) and paused (SIGSTOP of
 * every server process, as a paused VM), past the 12 s fence. The daemon must never exit, never hold a group twice, and
 * deliver what was queued once the store is back. A file of its own: its outages are mostly waiting (the 3-minute one
 * is the longest test of the suite), so it runs beside the other files rather than after them (test/sequencer.ts).
 */

const { db, groupsOn } = useStoreFaults();

describe.skipIf(!db.available)('the shared store away: the daemon never falls over', () => {
  it('one daemon, PostgreSQL stopped for 30 s (past the 12 s fence): it stays up, closes its connections at the fence, serves again when the store is back', async () => {
    const { ep, a, paths } = await groupsOn(3);
    const d = startDaemon(a.env);
    await until(() => openOnce(ep, paths), 30_000, 'every group connected');
    db.server().stopServer();
    // A lone daemon holds the poller lock: the fence used to reach the store through the poller and kill the process.
    await d.waitFor((l) => l.msg === 'the shared store is away too long: closing every connection', 30_000);
    await until(() => noneOpen(ep, paths), 10_000, 'every connection closed at the fence');
    await outage(15_000);
    expect(alive(d), said(d)).toBe(true);
    db.server().startServer();
    await d.waitFor((l) => l.msg === 'the shared store answers again', 30_000);
    await until(() => openOnce(ep, paths), 30_000, 'every group connected again');
    await deliveredEverywhere(ep, a, paths, 21, [d]);
    expectSurvived([d], ep, paths);
  }, 150_000);

  it('one daemon, PostgreSQL paused (SIGSTOP) for 30 s: no exit, connections closed at the fence, everything resumes with the server', async () => {
    const { ep, a, paths } = await groupsOn(3);
    const d = startDaemon(a.env);
    await until(() => openOnce(ep, paths), 30_000, 'every group connected');
    db.server().pauseServer();
    try {
      await d.waitFor((l) => l.msg === 'the shared store is away too long: closing every connection', 40_000);
      await until(() => noneOpen(ep, paths), 10_000, 'every connection closed at the fence');
      await outage(10_000);
      expect(alive(d), said(d)).toBe(true);
    } finally {
      db.server().resumeServer();
    }
    await until(() => openOnce(ep, paths), 60_000, 'every group connected again');
    await deliveredEverywhere(ep, a, paths, 22, [d]);
    expectSurvived([d], ep, paths);
  }, 180_000);

  it('three daemons, PostgreSQL stopped for 3 minutes with a notification in flight: none exits, no group is ever connected twice, the notification reaches every group once, and one queued afterwards too', async () => {
    const { ep, a, paths, more } = await groupsOn(12);
    const daemons = [a, more(), more()].map((h) => startDaemon(h.env));
    await until(() => openOnce(ep, paths), 30_000, 'every group connected');
    // In flight when the store goes: sent to every group, not acknowledged yet.
    ep.setAckNotifications(false);
    const q = await runCli(['notify'], a.env, `${JSON.stringify(jobNotification(230))}\n`);
    expect(q.code, q.stderr).toBe(0);
    await until(
      () =>
        new Set(
          ep
            .notifications()
            .filter((n) => n.data.jobId === 230)
            .map((n) => n.messageId),
        ).size === paths.length,
      30_000,
      'in flight to every group',
    );
    db.server().stopServer();
    await Promise.all(daemons.map((d) => d.waitFor((l) => l.msg === 'the shared store is away too long: closing every connection', 30_000)));
    await until(() => noneOpen(ep, paths), 10_000, 'every connection closed at the fence');
    await outage(180_000); // far past the fence and every back-off's ceiling
    expect(daemons.every(alive), daemons.map(said).join('\n')).toBe(true);
    expect(noneOpen(ep, paths)).toBe(true);
    db.server().startServer();
    ep.setAckNotifications(true);
    await until(() => openOnce(ep, paths), 90_000, 'every group connected again');
    // The message in flight is sent again with its id, on whichever daemon took its group: one message per group.
    await untilAsync(
      async () =>
        (JSON.parse((await runCli(['status', '--json'], a.env)).stdout).groups as { notifications?: { pending: number } }[]).every(
          (g) => g.notifications?.pending === 0,
        ),
      90_000,
      'the in-flight notification acknowledged by every group',
    );
    expect(
      new Set(
        ep
          .notifications()
          .filter((n) => n.data.jobId === 230)
          .map((n) => n.messageId),
      ).size,
    ).toBe(paths.length);
    await deliveredEverywhere(ep, a, paths, 23, daemons);
    expectSurvived(daemons, ep, paths);
  }, 420_000);
});
