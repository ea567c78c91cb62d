import { appendFileSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startReferenceEndpoint, throwawayCertificate } from '../../src/reference-endpoint/index.js';
import { details, detailsFile, runCli, type Home } from '../helpers/cli.js';
import { addEndpoint, connected, homeWith, useReferenceEndpoints } from '../helpers/setup.js';
import { startDaemon, stopAllDaemons } from '../helpers/daemon.js';
import { closedPort } from '../helpers/servers.js';
import { sharedStoreRun } from '../helpers/cli.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import { untilAsync } from '../helpers/wait.js';
import { FileSecretStore } from '../../src/core/secrets/file.js';

const endpoint = useReferenceEndpoints();
afterEach(stopAllDaemons);
afterAll(cleanupTempDirs);

/** A store with nbwss.properties (notification.sendTimeout 1 s unless said). */
const home = (props: Record<string, string | number | boolean> = {}) => homeWith({ 'notification.sendTimeout': 1000, ...props });
const add = addEndpoint;

const failed = (host: string) => (l: { msg: string; host?: string }) => l.msg === 'connection attempt failed' && l.host === host;
const listed = async (h: Home) =>
  Object.fromEntries(
    JSON.parse((await runCli(['list', '--json'], h.env)).stdout).map((e: { hostName: string; connectionState: string }) => [e.hostName, e.connectionState]),
  );

describe('nbwss daemon: connecting', () => {
  it('connects to the highest-priority endpoint with a CONNECT REQUEST the guide describes; list and status show it', async () => {
    const ep1 = await endpoint();
    const ep2 = await endpoint();
    const h = home();
    await add(h, 'ep1.test', ep1.url, { priority: 1 });
    await add(h, 'ep2.test', ep2.url, { priority: 2 });
    const d = startDaemon(h.env);
    await d.waitFor(connected('ep1.test'));
    expect(ep2.connections).toBe(0);
    const req = ep1.received[0] as Record<string, unknown>;
    expect(req).toMatchObject({ version: '1.0', type: 'CONNECT', subType: 'REQUEST', payload: { token: 'good-token' } });
    expect(req.id).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
    expect(Math.abs((req.timeStamp as number) - Date.now() / 1000)).toBeLessThan(60);
    expect(await listed(h)).toEqual({ 'ep1.test': 'CONNECTED', 'ep2.test': 'DISCONNECTED' });
    const status = JSON.parse((await runCli(['status', '--json'], h.env)).stdout);
    expect(status).toMatchObject({ running: true, pid: d.child.pid, properties: { 'connectionInfo.period': 60 } });
    expect(status.groups).toEqual([
      {
        groupId: 'sg1',
        connected: 'ep1.test',
        since: expect.any(String),
        endpoints: [
          expect.objectContaining({ hostName: 'ep1.test', connection: 'CONNECTED' }),
          expect.objectContaining({ hostName: 'ep2.test', connection: 'DISCONNECTED' }),
        ],
        notifications: expect.objectContaining({ pending: 0, inFlight: null }),
        inForce: { keepAliveMs: 30_000, maxPongMiss: 10, maxCommandsInFlight: 8 },
        // A shared store (the suite's PostgreSQL run) names the daemon serving the group.
        ...(h.env.NBWSS_STORE ? { owner: expect.stringMatching(/ pid \d+$/) } : {}),
      },
    ]);
    // One connection per group, one per endpoint.
    expect(ep1.clients().size).toBe(1);
  });

  it('fails over from priority 1 to 2 while 1 is down, and does not preempt when 1 comes back', async () => {
    const tls = await throwawayCertificate();
    const port = await closedPort();
    const ep2 = await endpoint();
    const h = home();
    // ep1 is up while it is added (its certificate is fetched), then goes down.
    const ep1a = await startReferenceEndpoint({ token: 'good-token', port, tls });
    await add(h, 'ep1.test', ep1a.url, { priority: 1 });
    await ep1a.close();
    await add(h, 'ep2.test', ep2.url, { priority: 2 });
    const d = startDaemon(h.env);
    await d.waitFor(failed('ep1.test'));
    await d.waitFor(connected('ep2.test'));
    // ep1 comes back on its address; a nudge reconciles; the working ep2 connection stays.
    const ep1 = await endpoint({ port, tls });
    const from = d.mark();
    await runCli(['activate', 'ep2.test'], h.env); // any change nudges the daemon
    await d.waitFor((l) => l.msg === 'reconciled', 10_000, from);
    // Attempts start within the reconcile: a preempting daemon would show ep1 CONNECTING (or connected) now.
    const settled = JSON.parse((await runCli(['status', '--json'], h.env)).stdout);
    expect(settled.groups[0].endpoints.map((e: { hostName: string; connection: string }) => [e.hostName, e.connection])).toEqual([
      ['ep1.test', 'DISCONNECTED'],
      ['ep2.test', 'CONNECTED'],
    ]);
    expect(ep1.connections).toBe(0);
    expect(ep2.connections).toBe(1);
    expect(ep2.clients().size).toBe(1);
    expect(await listed(h)).toEqual({ 'ep1.test': 'DISCONNECTED', 'ep2.test': 'CONNECTED' });
    // The cloud application closes ep2's connection: the group picks again, in priority order.
    const from2 = d.mark();
    ep2.closeClients(1000);
    await d.waitFor(connected('ep1.test'), 10_000, from2);
    expect(await listed(h)).toEqual({ 'ep1.test': 'CONNECTED', 'ep2.test': 'DISCONNECTED' });
    // Over the whole test: one connection to each, one open now.
    expect([ep1.connections, ep2.connections]).toEqual([1, 1]);
    expect([ep1.clients().size, ep2.clients().size]).toEqual([1, 0]);
  });

  // A shared store keeps its tokens in the database (sealed with the key file), and a host whose key does not open them
  // hands its groups back (ha.test): this is the single-host store's secret file.
  it.skipIf(sharedStoreRun)(
    'an endpoint without its token is not connected and says why; a secret store that cannot be read keeps live connections, and a daemon started without it says why',
    async () => {
      const ep = await endpoint();
      const h = home();
      await add(h, 'ep1.test', ep.url, { groupId: 'sg1' });
      await add(h, 'ep2.test', ep.url, { groupId: 'sg2' });
      new FileSecretStore(h.dir, h.keyFile).delete('ep2.test');
      const lastError = async (host: string) => JSON.parse((await runCli(['show', host, '--json'], h.env)).stdout).lastError as string | null;
      const d = startDaemon(h.env);
      await d.waitFor(connected('ep1.test'));
      await untilAsync(async () => (await lastError('ep2.test')) === 'no token in the secret store', 20_000, 'ep2.test says it has no token');
      // The key file is moved away: the tokens cannot be read, but the live connection keeps the token it was opened with.
      renameSync(h.keyFile, `${h.keyFile}.away`);
      const from = d.mark();
      await runCli(['config', 'set', 'connectionInfo.period', '61'], h.env); // a change nudges the daemon
      const warned = await d.waitFor((l) => l.msg.startsWith('the secret store cannot be read'), 20_000, from);
      expect(warned).toMatchObject({ level: 40, endpoints: 1, err: expect.stringMatching(/secret key file .* is missing/) });
      await d.waitFor((l) => l.msg === 'reconciled', 20_000, from);
      expect(d.lines.slice(from).filter((l) => l.msg === 'closing connection')).toEqual([]);
      expect(await listed(h)).toEqual({ 'ep1.test': 'CONNECTED', 'ep2.test': 'DISCONNECTED' });
      expect(ep.clients().size).toBe(1);
      // A daemon started while the key is away has no token to keep: it connects nothing and says why.
      await d.stop();
      const d2 = startDaemon(h.env);
      await d2.waitFor((l) => l.msg === 'reconciled');
      await untilAsync(async () => /^secret store: .*secret key file .* is missing/.test((await lastError('ep1.test')) ?? ''), 20_000, 'ep1.test says why');
      expect(d2.lines.filter((l) => l.msg === 'connected')).toEqual([]);
    },
  );

  it('a wrong token: token rejected, the next endpoint; show says why', async () => {
    const ep1 = await endpoint({ rejectToken: true });
    const ep2 = await endpoint();
    const h = home();
    await add(h, 'ep1.test', ep1.url, { priority: 1 });
    await add(h, 'ep2.test', ep2.url, { priority: 2 });
    const d = startDaemon(h.env);
    expect((await d.waitFor(failed('ep1.test'))).reason).toBe('token rejected');
    await d.waitFor(connected('ep2.test'));
    const shown = JSON.parse((await runCli(['show', 'ep1.test', '--json'], h.env)).stdout);
    expect(shown).toMatchObject({ connectionState: 'DISCONNECTED', lastError: 'token rejected' });
    expect((await runCli(['show', 'ep1.test'], h.env)).stdout).toContain('(last error: token rejected)');
  });

  it('no CONNECT RESPONSE within connect.timeout: the next endpoint', async () => {
    const ep1 = await endpoint({ silentToConnect: true });
    const ep2 = await endpoint();
    const h = home({ 'connect.timeout': 300 });
    await add(h, 'ep1.test', ep1.url, { priority: 1 });
    await add(h, 'ep2.test', ep2.url, { priority: 2 });
    const d = startDaemon(h.env);
    expect((await d.waitFor(failed('ep1.test'))).reason).toBe('no CONNECT RESPONSE within connect.timeout (300 ms)');
    await d.waitFor(connected('ep2.test'));
  });

  it('a cloud that takes longer than notification.sendTimeout to check the token still connects (connect.timeout is the bound)', async () => {
    const ep1 = await endpoint({ connectDelayMs: 600 });
    const h = home({ 'notification.sendTimeout': 100 });
    await add(h, 'ep1.test', ep1.url);
    const d = startDaemon(h.env);
    await d.waitFor(connected('ep1.test'));
    expect(d.lines.some(failed('ep1.test'))).toBe(false);
  });

  it('a certificate swapped on the server is refused before the token is sent; the next endpoint', async () => {
    const ep1 = await endpoint();
    const ep2 = await endpoint();
    const h = home();
    await add(h, 'ep1.test', ep1.url, { priority: 1 });
    await add(h, 'ep2.test', ep2.url, { priority: 2 });
    ep1.setCertificate(await throwawayCertificate());
    const d = startDaemon(h.env);
    expect((await d.waitFor(failed('ep1.test'))).reason).toMatch(/^certificate does not match the pin/);
    await d.waitFor(connected('ep2.test'));
    expect(ep1.connections).toBe(0); // not even the WebSocket upgrade reached it
    expect(ep1.received).toEqual([]);
  });

  it('an spki pin accepts a renewed certificate with the same key', async () => {
    const tls = await throwawayCertificate();
    const ep1 = await endpoint({ tls });
    const h = home();
    const r = await runCli(
      ['add', '--pin', 'spki', '--file', detailsFile(details({ hostName: 'ep1.test', url: ep1.url, token: 'good-token' })), '--yes'],
      h.env,
    );
    expect(r.code, r.stderr).toBe(0);
    // Same key, new certificate.
    const { generate } = await import('selfsigned');
    const { createPublicKey } = await import('node:crypto');
    const renewed = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
      keyPair: { privateKey: tls.key, publicKey: createPublicKey(tls.key).export({ type: 'spki', format: 'pem' }) as string },
      keyType: 'ec',
      curve: 'P-256',
    });
    ep1.setCertificate({ key: tls.key, cert: renewed.cert });
    const d = startDaemon(h.env);
    await d.waitFor(connected('ep1.test'));
  });
});

describe('nbwss daemon: keeping connections', () => {
  it('pongs withheld: maxPongMissAllowed misses in a row close with a close frame (1001), the group fails over', async () => {
    const ep1 = await endpoint();
    const ep2 = await endpoint();
    const h = home({ 'keepAlive.scheduledRate': 1, 'keepAlive.maxPongMissAllowed': 2 });
    await add(h, 'ep1.test', ep1.url, { priority: 1 });
    await add(h, 'ep2.test', ep2.url, { priority: 2 });
    const d = startDaemon(h.env);
    await d.waitFor(connected('ep1.test'));
    ep1.setSilentToPings(true);
    const ended = await d.waitFor((l) => l.msg === 'connection ended; the group picks again' && l.host === 'ep1.test', 15_000);
    expect(ended.reason).toBe('closed by nbwss (1001): 2 pongs missed in a row');
    // The endpoint got a close frame saying so, not a dropped socket (1006).
    expect(await ep1.closedCode(1)).toBe(1001);
    await d.waitFor(connected('ep2.test'), 15_000);
  });

  it('keepAlive.scheduledRate changed while connected reaches the live connection; status shows what it uses', async () => {
    const ep1 = await endpoint();
    const h = home({ 'keepAlive.scheduledRate': 3600 });
    await add(h, 'ep1.test', ep1.url);
    const d = startDaemon(h.env);
    await d.waitFor(connected('ep1.test'));
    const before = JSON.parse((await runCli(['status', '--json'], h.env)).stdout);
    expect(before.groups[0].inForce.keepAliveMs).toBe(3_600_000);
    expect((await runCli(['config', 'set', 'keepAlive.scheduledRate', '1'], h.env)).code).toBe(0);
    // The config change nudges the daemon; the live connection pings at the new rate.
    await ep1.waitForPing(10_000);
    const after = JSON.parse((await runCli(['status', '--json'], h.env)).stdout);
    expect(after.groups[0].inForce.keepAliveMs).toBe(1000);
    expect(ep1.connections).toBe(1);
  });

  it.each([
    ['not JSON', '{not json'],
    ['an unknown type', JSON.stringify({ version: '1.0', id: 'x', type: 'HELLO', subType: 'REQUEST', timeStamp: 1, payload: {} })],
    ['a missing id', JSON.stringify({ version: '1.0', type: 'COMMAND', subType: 'REQUEST', timeStamp: 1, payload: {} })],
    [
      'a NOTIFICATION payload that is not an array',
      JSON.stringify({ version: '1.0', id: 'x', type: 'NOTIFICATION', subType: 'RESPONSE', timeStamp: 1, payload: {} }),
    ],
  ])('a message with %s closes the connection (1007)', async (_what, text) => {
    const ep1 = await endpoint();
    const h = home();
    await add(h, 'ep1.test', ep1.url);
    const d = startDaemon(h.env);
    await d.waitFor(connected('ep1.test'));
    const from = d.mark();
    ep1.sendToClients(text);
    await d.waitFor((l) => l.msg === 'closing: a message that is not a valid NBWSS message', 10_000, from);
    await d.waitFor((l) => l.msg === 'connection ended; the group picks again', 10_000, from);
    expect(await ep1.closedCode(1)).toBe(1007);
  });

  it('with exception.ignoreDecoder=true a malformed message is logged and the connection stays', async () => {
    const ep1 = await endpoint();
    const h = home({ 'exception.ignoreDecoder': true });
    await add(h, 'ep1.test', ep1.url);
    const d = startDaemon(h.env);
    await d.waitFor(connected('ep1.test'));
    const from = d.mark();
    ep1.sendToClients('{not json');
    await d.waitFor((l) => l.msg.startsWith('ignoring a message that is not a valid NBWSS message'), 10_000, from);
    // Still connected: a COMMAND REQUEST is still answered on the same connection.
    const answered = new Promise<unknown>((resolve) => [...ep1.clients()][0]!.once('message', (m) => resolve(JSON.parse(String(m)))));
    ep1.sendToClients(
      JSON.stringify({
        version: '1.0',
        id: 'CMD-1',
        type: 'COMMAND',
        subType: 'REQUEST',
        timeStamp: 1,
        payload: { uri: '/netbackup/admin/jobs', method: 'GET', headers: {} },
      }),
    );
    // No REST service is trusted in this store: nbwss's own answer, not silence.
    expect(await answered).toMatchObject({ id: 'CMD-1', type: 'COMMAND', subType: 'RESPONSE', payload: { responseCode: 502 } });
    // A NOTIFICATION RESPONSE (an acknowledgement) is taken quietly.
    const from2 = d.mark();
    ep1.sendToClients(JSON.stringify({ version: '1.0', id: 'N-1', type: 'NOTIFICATION', subType: 'RESPONSE', timeStamp: 1, payload: [] }));
    const answered2 = new Promise<unknown>((resolve) => [...ep1.clients()][0]!.once('message', (m) => resolve(JSON.parse(String(m)))));
    ep1.sendToClients(
      JSON.stringify({ version: '1.0', id: 'CMD-2', type: 'COMMAND', subType: 'REQUEST', timeStamp: 1, payload: { uri: '/', method: 'GET', headers: {} } }),
    );
    expect(await answered2).toMatchObject({ id: 'CMD-2' });
    expect(d.lines.slice(from2).some((l) => l.msg.startsWith('closing'))).toBe(false);
    expect(ep1.closeCodes).toEqual([]);
  });
});

describe('nbwss daemon: back-off', () => {
  it('an endpoint that keeps failing is retried with growing delays, bounded by the period: as the endpoint sees them', async () => {
    const rejecting = await endpoint({ rejectToken: true });
    const h = home({ 'connectionInfo.period': 3 });
    await add(h, 'dead.test', rejecting.url);
    const d = startDaemon(h.env);
    const delays: number[] = [];
    let from = 0;
    for (let i = 0; i < 4; i++) {
      const l = await d.waitFor((x) => x.msg === 'connection attempt failed' && x.host === 'dead.test', 15_000, from);
      from = d.lines.indexOf(l) + 1;
      delays.push(l.retryInMs as number);
    }
    expect(delays).toEqual([1000, 2000, 3000, 3000]);
    // The spacing between the attempts the endpoint received, not only what the daemon says it waits.
    await d.waitFor((x) => x.msg === 'connection attempt failed' && x.host === 'dead.test', 15_000, from);
    const at = rejecting.connectionTimes;
    const gaps = at.slice(1, 5).map((t, i) => t - at[i]!);
    expect(gaps).toHaveLength(4);
    for (const [i, least] of [1000, 2000, 3000, 3000].entries()) expect(gaps[i], `gap ${i + 1}: ${gaps.join(', ')}`).toBeGreaterThanOrEqual(least - 100);
  }, 40_000);
});

describe('nbwss daemon: the CLI changes the store', () => {
  it('deactivate: the connection closes and the group moves on, at the nudge (period 60 s); delete: the same', async () => {
    const ep1 = await endpoint();
    const ep2 = await endpoint();
    const ep3 = await endpoint();
    const h = home();
    await add(h, 'ep1.test', ep1.url, { priority: 1 });
    await add(h, 'ep2.test', ep2.url, { priority: 2 });
    await add(h, 'ep3.test', ep3.url, { priority: 3 });
    const d = startDaemon(h.env);
    await d.waitFor(connected('ep1.test'));
    let from = d.mark();
    expect((await runCli(['deactivate', 'ep1.test'], h.env)).code).toBe(0);
    await d.waitFor((l) => l.msg === 'closing connection' && l.host === 'ep1.test', 5_000, from);
    await d.waitFor(connected('ep2.test'), 5_000, from);
    expect(await ep1.closedCode(1)).toBe(1000);
    from = d.mark();
    expect((await runCli(['delete', 'ep2.test', '--yes'], h.env)).code).toBe(0);
    await d.waitFor(connected('ep3.test'), 5_000, from);
    expect(await listed(h)).toEqual({ 'ep1.test': 'DISCONNECTED', 'ep3.test': 'CONNECTED' });
  });

  it('a new token (token set) reconnects with it', async () => {
    const ep1 = await endpoint({ token: 'second-token' });
    const h = home();
    await add(h, 'ep1.test', ep1.url, { token: 'first-token' });
    const d = startDaemon(h.env);
    await d.waitFor(failed('ep1.test'));
    const from = d.mark();
    expect((await runCli(['token', 'set', 'ep1.test'], h.env, 'second-token\n')).code).toBe(0);
    // The failing endpoint is in back-off; the nudge still reconciles, and the retry uses the new token.
    await d.waitFor(connected('ep1.test'), 10_000, from);
  });
});

describe('nbwss daemon: its life', () => {
  it('one daemon per store: a second one exits 8 with a clear message', async () => {
    const h = home();
    const d = startDaemon(h.env);
    await d.waitFor((l) => l.msg === 'NBWSS daemon started');
    const second = await runCli(['daemon'], h.env);
    expect(second.code).toBe(8);
    expect(second.stderr).toContain(`An NBWSS daemon is already running for the store ${h.dir} (pid ${d.child.pid})`);
  });

  it('SIGTERM closes connections with a normal close code and exits 0; list shows DISCONNECTED', async () => {
    const ep1 = await endpoint();
    const h = home();
    await add(h, 'ep1.test', ep1.url);
    const d = startDaemon(h.env);
    await d.waitFor(connected('ep1.test'));
    const r = await d.stop('SIGTERM');
    expect(r.code).toBe(0);
    expect(await ep1.closedCode(1)).toBe(1000);
    expect(await listed(h)).toEqual({ 'ep1.test': 'DISCONNECTED' });
    // On a shared store, status also says which daemons serve it (none now, from any host).
    expect(JSON.parse((await runCli(['status', '--json'], h.env)).stdout)).toEqual({
      running: false,
      outbox: [],
      polling: [],
      ...(h.env.NBWSS_STORE ? { cluster: { daemons: [] } } : {}),
    });
  });

  it('killed (kill -9) and restarted: the stale state is reset and it reconnects', async () => {
    const ep1 = await endpoint();
    const h = home();
    await add(h, 'ep1.test', ep1.url);
    const d1 = startDaemon(h.env);
    await d1.waitFor(connected('ep1.test'));
    // A status answer comes after the daemon recorded the connection (same tick as its log line).
    expect((await runCli(['status', '--json'], h.env)).code).toBe(0);
    await d1.stop('SIGKILL');
    expect(await listed(h)).toEqual({ 'ep1.test': 'CONNECTED' }); // what the killed daemon left
    // Deactivated while no daemon runs: no daemon will touch this entry again, only the reset at start.
    expect((await runCli(['deactivate', 'ep1.test'], h.env)).code).toBe(0);
    const d2 = startDaemon(h.env);
    await d2.waitFor((l) => l.msg === 'reconciled');
    expect(await listed(h)).toEqual({ 'ep1.test': 'DISCONNECTED' });
    const from = d2.mark();
    expect((await runCli(['activate', 'ep1.test'], h.env)).code).toBe(0);
    await d2.waitFor(connected('ep1.test'), 10_000, from);
    expect(await listed(h)).toEqual({ 'ep1.test': 'CONNECTED' });
  });

  it('logs JSON lines to NBWSS_HOME/logs/nbwss.log (0600), never a token', async () => {
    const ep1 = await endpoint({ token: 'LOG-SECRET-TOKEN' });
    const h = home();
    await add(h, 'ep1.test', ep1.url, { token: 'LOG-SECRET-TOKEN' });
    const d = startDaemon(h.env);
    await d.waitFor(connected('ep1.test'));
    await d.stop('SIGTERM');
    const log = readFileSync(join(h.dir, 'logs', 'nbwss.log'), 'utf8');
    expect(
      log
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).msg),
    ).toContain('connected');
    expect(log).not.toContain('LOG-SECRET-TOKEN');
    expect(d.lines.map((l) => JSON.stringify(l)).join('\n')).not.toContain('LOG-SECRET-TOKEN');
    expect((statSync(join(h.dir, 'logs', 'nbwss.log')).mode & 0o777).toString(8)).toBe('600');
  });

  it('SIGHUP re-reads nbwss.properties', async () => {
    const h = home();
    const d = startDaemon(h.env);
    await d.waitFor((l) => l.msg === 'NBWSS daemon started');
    // Edited by hand (no CLI run, so no nudge): only the signal can make the daemon read it.
    appendFileSync(join(h.dir, 'nbwss.properties'), 'keepAlive.scheduledRate=7\n');
    const before = JSON.parse((await runCli(['status', '--json'], h.env)).stdout);
    expect(before.properties['keepAlive.scheduledRate']).toBe(30);
    const from = d.mark();
    d.child.kill('SIGHUP');
    await d.waitFor((l) => l.msg === 'SIGHUP: re-reading properties, reopening the log file and reconciling', 5_000, from);
    const status = JSON.parse((await runCli(['status', '--json'], h.env)).stdout);
    expect(status.properties['keepAlive.scheduledRate']).toBe(7);
  });
});
