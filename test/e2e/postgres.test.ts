import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { details, detailsFile, newHome, runCli } from '../helpers/cli.js';
import { startDaemon, stopAllDaemons } from '../helpers/daemon.js';
import { sharedHost, useSharedPostgres } from '../helpers/postgres.js';
import { connected, jobNotification, useReferenceEndpoints } from '../helpers/setup.js';
import { cleanupTempDirs } from '../helpers/tmp.js';

const endpoint = useReferenceEndpoints();
const db = useSharedPostgres();
const available = db.available;
afterAll(cleanupTempDirs);
afterEach(stopAllDaemons);

const host = sharedHost;

async function query(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}

describe.skipIf(!available)('a shared PostgreSQL store (NBWSS_STORE)', () => {
  it('the CLI works on it as on SQLite: add, list, show, token set, deactivate, delete; tokens sealed in the database, nothing but local files in NBWSS_HOME', async () => {
    const ep = await endpoint();
    const url = await db.server().database();
    const a = host(url);
    const add = await runCli(['add', '--file', detailsFile(details({ hostName: 'ep1.test', url: ep.url, token: 'tok-secret-1' })), '--yes'], a.env);
    expect(add.code, add.stderr).toBe(0);
    expect(JSON.parse((await runCli(['list', '--json'], a.env)).stdout)).toMatchObject([
      { hostName: 'ep1.test', groupId: 'sg1', state: 'ACTIVATED', connectionState: 'DISCONNECTED' },
    ]);
    // A second host of the store sees the entry and, with the same key file, its token.
    const b = host(url, a.env.NBWSS_SECRET_KEY_FILE);
    expect((await runCli(['show', 'ep1.test', '--show-token', '--json'], b.env)).stdout).toContain('"token": "tok-secret-1"');
    expect((await runCli(['token', 'set', 'ep1.test'], b.env, 'tok-secret-2\n')).code).toBe(0);
    expect((await runCli(['show', 'ep1.test', '--show-token', '--json'], a.env)).stdout).toContain('"token": "tok-secret-2"');
    // Sealed: the database holds no token in clear, and a host without the key reads none.
    const rows = await query(url, 'SELECT account, sealed FROM secrets');
    expect(rows.map((r) => r.account)).toEqual(['ep1.test']);
    expect(JSON.stringify(rows)).not.toContain('tok-secret');
    const c = host(url); // no key file on this host
    const noKey = await runCli(['show', 'ep1.test', '--show-token'], c.env);
    expect(noKey.code).toBe(8);
    expect(noKey.stderr).toContain('is missing on this host');
    expect(noKey.stderr).toContain('copy it from the host that created the store');
    writeFileSync(c.env.NBWSS_SECRET_KEY_FILE!, randomBytes(32), { mode: 0o600 }); // another key
    const wrongKey = await runCli(['show', 'ep1.test', '--show-token'], c.env);
    expect(wrongKey.code).toBe(8);
    expect(wrongKey.stderr).toContain('cannot be decrypted with the key in');
    expect(wrongKey.stderr).toContain('Every host of a shared store needs the same key file');
    expect((await runCli(['deactivate', 'ep1.test'], b.env)).code).toBe(0);
    expect(JSON.parse((await runCli(['list', '--json'], a.env)).stdout)[0].state).toBe('DEACTIVATED');
    expect((await runCli(['delete', 'ep1.test', '--yes'], a.env)).code).toBe(0);
    expect(await query(url, 'SELECT count(*)::int AS n FROM secrets')).toEqual([{ n: 0 }]);
    // The store is not in NBWSS_HOME: no nbwss.db there.
    expect(existsSync(join(a.dir, 'nbwss.db'))).toBe(false);
    expect(readdirSync(a.dir).filter((f) => f.startsWith('nbwss.db'))).toEqual([]);
  });

  it('refuses what would break it: a keychain (one machine), a password in the URL (ps), a URL that is not postgres://', async () => {
    const url = await db.server().database();
    const h = host(url);
    const keychain = await runCli(['add', '--file', detailsFile(details({ hostName: 'x.test' })), '--yes', '--secret-store', 'keychain'], h.env);
    expect(keychain.code).toBe(8);
    expect(keychain.stderr).toContain('A shared (PostgreSQL) store cannot keep its tokens in a keychain');
    const pw = await runCli(['list', '--store', 'postgres://nbwss:hunter2@127.0.0.1:1/x'], newHome().env);
    expect(pw.code).toBe(2);
    expect(pw.stderr).toContain('The store URL holds a password');
    expect(pw.stderr).not.toContain('hunter2');
    const notPg = await runCli(['list'], { ...newHome().env, NBWSS_STORE: 'mysql://db/x' });
    expect(notPg.code).toBe(2);
    expect(notPg.stderr).toContain('NBWSS_STORE must be a postgres:// URL');
    const down = await runCli(['list'], { ...newHome().env, NBWSS_STORE: 'postgres://nbwss@127.0.0.1:1/none' });
    expect(down.code).toBe(8);
    expect(down.stderr).toContain('Cannot open the PostgreSQL store postgres://nbwss@127.0.0.1:1/none');
  });

  it('ten hosts starting at once on a new database: one creates the schema, all ten adds land with their tokens', async () => {
    const eps = await Promise.all(Array.from({ length: 2 }, () => endpoint()));
    const url = await db.server().database();
    const first = host(url);
    const key = first.env.NBWSS_SECRET_KEY_FILE!;
    // The key file exists before the hosts race (the administrator distributes it).
    writeFileSync(key, randomBytes(32), { mode: 0o600 });
    const hosts = Array.from({ length: 10 }, () => host(url, key));
    const runs = await Promise.all(
      hosts.map((h, i) =>
        runCli(['add', '--file', detailsFile(details({ hostName: `h${i}.test`, url: eps[i % 2]!.url, token: `t${i}`, groupId: `g${i}` })), '--yes'], h.env),
      ),
    );
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const list = JSON.parse((await runCli(['list', '--json'], first.env)).stdout) as { hostName: string }[];
    expect(list.map((e) => e.hostName).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `h${i}.test`).sort());
    expect(await query(url, 'SELECT count(*)::int AS n FROM secrets')).toEqual([{ n: 10 }]);
    expect(await query(url, 'SELECT version FROM nbwss_schema')).toEqual([{ version: 3 }]);
  });

  it('CLI changes on another host reach the daemon at once (LISTEN/NOTIFY): a notification queued there is delivered, a deactivation there closes the connection', async () => {
    const ep = await endpoint();
    const url = await db.server().database();
    const a = host(url);
    // a's daemon looks on its own only every minute: what arrives sooner came by NOTIFY.
    mkdirSync(a.dir, { recursive: true, mode: 0o700 });
    writeFileSync(join(a.dir, 'nbwss.properties'), 'notification.scheduledRate=60\nconnectionInfo.period=60\n');
    expect((await runCli(['add', '--file', detailsFile(details({ hostName: 'ep1.test', url: ep.url, token: 'good-token' })), '--yes'], a.env)).code).toBe(0);
    const d = startDaemon(a.env);
    await d.waitFor(connected('ep1.test'));
    const b = host(url, a.env.NBWSS_SECRET_KEY_FILE); // another host, no daemon of its own to nudge
    const r = await runCli(['notify'], b.env, `${JSON.stringify(jobNotification(146))}\n`);
    expect(r.code, r.stderr).toBe(0);
    const [n] = await ep.waitForNotifications(1, 10_000);
    expect(n!.data.jobId).toBe(146);
    expect(JSON.parse((await runCli(['list', '--json'], b.env)).stdout)[0].connectionState).toBe('CONNECTED');
    const from = d.mark();
    expect((await runCli(['deactivate', 'ep1.test'], b.env)).code).toBe(0);
    await d.waitFor((l) => l.msg === 'closing connection' && l.host === 'ep1.test', 10_000, from);
    expect(await ep.closedCode(1)).toBe(1000);
  });

  it("doctor checks the shared store: this host's key opens every token, every daemon's key does too (each records it)", async () => {
    const ep = await endpoint();
    const url = await db.server().database();
    const a = host(url);
    expect((await runCli(['add', '--file', detailsFile(details({ hostName: 'ep1.test', url: ep.url, token: 'good-token' })), '--yes'], a.env)).code).toBe(0);
    const ok = await runCli(['doctor', '--json'], a.env);
    expect(ok.code, ok.stdout).toBe(0);
    expect(JSON.parse(ok.stdout).checks.map((c: { name: string; status: string }) => `${c.name}:${c.status}`)).toEqual([
      'store:ok',
      'schema:ok',
      'properties:ok',
      'key file:ok',
      'tokens:ok',
      'hosts:ok',
    ]);
    // A second host whose administrator forgot to copy the key file: its daemon says so, doctor names it.
    const b = host(url);
    writeFileSync(b.env.NBWSS_SECRET_KEY_FILE!, randomBytes(32), { mode: 0o600 });
    const d = startDaemon(b.env);
    // It serves no group (the others serve them all) and says why.
    await d.waitFor((l) => l.msg.startsWith("this host's key file does not open the shared store's tokens: this daemon serves no group"), 15_000);
    // Its heartbeat (once a second) carries what its key opens.
    let bad = await runCli(['doctor', '--json'], a.env);
    for (let i = 0; i < 50 && bad.code === 0; i++) bad = await runCli(['doctor', '--json'], a.env);
    expect(bad.code).toBe(8);
    const hosts = JSON.parse(bad.stdout).checks.find((c: { name: string }) => c.name === 'hosts');
    expect(hosts).toMatchObject({ status: 'problem', detail: expect.stringContaining('daemons whose key file does not open the tokens') });
    expect(hosts.detail).toContain(`pid ${d.child.pid}`);
    // On b itself, doctor says its own key does not open them.
    const own = JSON.parse((await runCli(['doctor', '--json'], b.env)).stdout).checks.find((c: { name: string }) => c.name === 'key file');
    expect(own).toMatchObject({ status: 'problem', detail: expect.stringContaining('cannot be decrypted with the key in') });
  });

  it('nbwss store copy: a SQLite store to PostgreSQL and back — entries, pins, pending notifications, tokens re-sealed — verified; a non-empty target refused', async () => {
    const ep = await endpoint();
    const url = await db.server().database();
    const local = newHome(); // SQLite, file secret store
    for (const i of [1, 2])
      expect(
        (
          await runCli(
            [
              'add',
              '--file',
              detailsFile(details({ hostName: `ep${i}.test`, url: ep.url, token: i === 1 ? 'good-token' : `tok-${i}`, groupId: `g${i}` })),
              '--yes',
            ],
            local.env,
          )
        ).code,
      ).toBe(0);
    expect((await runCli(['deactivate', 'ep2.test'], local.env)).code).toBe(0);
    expect((await runCli(['activate', 'ep2.test'], local.env)).code).toBe(0);
    expect((await runCli(['notify'], local.env, `${JSON.stringify(jobNotification(7))}\n`)).code).toBe(0);
    const before = JSON.parse((await runCli(['list', '--json'], local.env)).stdout);
    const copied = await runCli(['store', 'copy', '--to', url, '--json'], local.env);
    expect(copied.code, copied.stderr).toBe(0);
    // One notification, stored once, pending for both groups.
    expect(JSON.parse(copied.stdout)).toMatchObject({
      rows: { endpoints: 2, pinned_certificates: 2, notifications: 1, group_queues: 2 },
      pending: 2,
      tokens: 2,
    });
    expect(copied.stderr).toContain('and verified');
    // Read through the shared store, with the same key file.
    const shared = host(url, local.env.NBWSS_SECRET_KEY_FILE);
    expect(JSON.parse((await runCli(['list', '--json'], shared.env)).stdout)).toEqual(before);
    expect((await runCli(['show', 'ep2.test', '--show-token', '--json'], shared.env)).stdout).toContain('"token": "tok-2"');
    const waiting = JSON.parse((await runCli(['status', '--json'], shared.env)).stdout);
    expect(waiting.outbox.map((g: { groupId: string; pending: number }) => `${g.groupId}:${g.pending}`)).toEqual(['g1:1', 'g2:1']);
    // Into a store that holds entries: refused, nothing changed.
    const again = await runCli(['store', 'copy', '--to', url], local.env);
    expect(again.code).toBe(6);
    expect(again.stderr).toContain('The target store is not empty');
    // And back, into a new SQLite store.
    const back = newHome();
    const out = await runCli(['store', 'copy', '--to', back.dir], { ...shared.env });
    expect(out.code, out.stderr).toBe(0);
    const backEnv = { ...back.env, NBWSS_SECRET_KEY_FILE: local.env.NBWSS_SECRET_KEY_FILE };
    expect(JSON.parse((await runCli(['list', '--json'], backEnv)).stdout)).toEqual(before);
    expect((await runCli(['show', 'ep1.test', '--show-token', '--json'], backEnv)).stdout).toContain('"token": "good-token"');
    expect((await runCli(['show', 'ep2.test', '--show-token', '--json'], backEnv)).stdout).toContain('"token": "tok-2"');
    // The queued notification is delivered from the copy.
    const d = startDaemon(backEnv);
    await d.waitFor(connected('ep1.test'));
    const got = await ep.waitForNotifications(1, 15_000);
    expect(got[0]!.data.jobId).toBe(7);
  });

  it('store copy of a store whose daemon is connected: nothing in the copy is CONNECTED (nothing serves it yet)', async () => {
    const ep = await endpoint();
    const url = await db.server().database();
    const local = newHome();
    expect((await runCli(['add', '--file', detailsFile(details({ hostName: 'ep1.test', url: ep.url, token: 'good-token' })), '--yes'], local.env)).code).toBe(
      0,
    );
    const d = startDaemon(local.env);
    await d.waitFor(connected('ep1.test'));
    expect(JSON.parse((await runCli(['list', '--json'], local.env)).stdout)[0].connectionState).toBe('CONNECTED');
    const copied = await runCli(['store', 'copy', '--to', url], local.env);
    expect(copied.code, copied.stderr).toBe(0);
    const shared = host(url, local.env.NBWSS_SECRET_KEY_FILE);
    expect(JSON.parse((await runCli(['list', '--json'], shared.env)).stdout)[0].connectionState).toBe('DISCONNECTED');
  });

  it("one schema for both backends (src/core/store/schema.ts): a new SQLite store and a new PostgreSQL store have the same tables, columns and indexes; PostgreSQL adds only secrets and daemons; doctor reads each one's version", async () => {
    const ep = await endpoint();
    const url = await db.server().database();
    const a = host(url);
    const local = newHome();
    for (const env of [a.env, local.env])
      expect((await runCli(['add', '--file', detailsFile(details({ hostName: 'ep1.test', url: ep.url, token: 'good-token' })), '--yes'], env)).code).toBe(0);
    const { default: Database } = await import('better-sqlite3');
    const lite = new Database(join(local.dir, 'nbwss.db'), { readonly: true });
    const sqlite = new Map<string, string[]>();
    let sqliteIndexes: string[];
    try {
      for (const { name } of lite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[])
        sqlite.set(
          name,
          (lite.pragma(`table_info(${name})`) as { name: string; notnull: number; pk: number }[]).map(
            (c) => `${c.name}${c.notnull || c.pk ? ' NOT NULL' : ''}`,
          ),
        );
      sqliteIndexes = (lite.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name").all() as { name: string }[]).map(
        (r) => r.name,
      );
    } finally {
      lite.close();
    }
    const cols = await query(
      url,
      'SELECT table_name AS t, column_name AS c, is_nullable AS n FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position',
    );
    const postgres = new Map<string, string[]>();
    for (const r of cols) postgres.set(r.t as string, [...(postgres.get(r.t as string) ?? []), `${r.c}${r.n === 'NO' ? ' NOT NULL' : ''}`]);
    expect([...postgres.keys()].filter((t) => !sqlite.has(t)).sort()).toEqual(['daemons', 'nbwss_schema', 'secrets']);
    expect([...sqlite.keys()].filter((t) => !postgres.has(t))).toEqual([]);
    for (const [t, c] of sqlite) expect(postgres.get(t), t).toEqual(c);
    const pgIndexes = (
      await query(url, "SELECT indexname AS i FROM pg_indexes WHERE schemaname = current_schema() AND indexname NOT LIKE '%_pkey' ORDER BY indexname")
    ).map((r) => r.i);
    expect(pgIndexes).toEqual(sqliteIndexes);
    // Host names compare alike: SQLite's NOCASE and PostgreSQL's "C" see the canonical (lower-case) name nbwss keeps.
    expect((await runCli(['show', 'EP1.TEST', '--json'], a.env)).code).toBe(0);
    expect((await runCli(['show', 'EP1.TEST', '--json'], local.env)).code).toBe(0);
    const doctor = await runCli(['doctor'], a.env);
    expect(doctor.stdout).toMatch(/schema version 3 \(this nbwss: 3\)/);
  });

  it('schema upgrades: a store of an older schema (PostgreSQL 1, SQLite 4) is brought to the current one when a newer nbwss opens it, its pending notifications kept per group', async () => {
    // Yesterday's outbox: one row per notification and group. sg1 waits for 1, 2 and 3; old-group (no entry any more) for 2.
    const outbox = (dialect: 'sqlite' | 'postgres') => `
      DROP TABLE notifications; DROP TABLE group_queues; DROP TABLE group_gaps; DROP INDEX poll_jobs_by_seen;
      CREATE TABLE outbox (group_id TEXT ${dialect === 'postgres' ? 'COLLATE "C" ' : ''}NOT NULL, seq INTEGER NOT NULL,
        object TEXT NOT NULL CHECK (object IN ('JOB', 'IMAGE')), data TEXT NOT NULL, accepted_at TEXT NOT NULL, PRIMARY KEY (group_id, seq));
      INSERT INTO outbox VALUES ('sg1', 1, 'JOB', '{"jobId":1}', '2026-12-01T00:00:01.000Z'), ('sg1', 2, 'JOB', '{"jobId":2}', '2026-12-01T00:00:02.000Z'),
        ('sg1', 3, 'JOB', '{"jobId":3}', '2026-12-01T00:00:03.000Z'), ('old-group', 2, 'JOB', '{"jobId":2}', '2026-12-01T00:00:02.000Z');
      INSERT INTO meta (key, value) VALUES ('notification_seq', '4');`;
    const waiting = async (env: NodeJS.ProcessEnv) =>
      (JSON.parse((await runCli(['status', '--json'], env)).stdout).outbox as { groupId: string; pending: number }[]).map((g) => `${g.groupId}:${g.pending}`);
    // PostgreSQL: an older nbwss made the database at schema 1 (its V1 tables: the outbox, no poll_jobs_by_seen index).
    const ep = await endpoint();
    const url = await db.server().database();
    const a = host(url);
    const add = (env: NodeJS.ProcessEnv) =>
      runCli(['add', '--file', detailsFile(details({ hostName: 'ep1.test', url: ep.url, token: 'good-token' })), '--yes'], env);
    expect((await add(a.env)).code).toBe(0); // made at the current schema
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(outbox('postgres'));
      await c.query('UPDATE nbwss_schema SET version = 1');
      // Several hosts start at once on the old store: each waits for the migration lock; one upgrades.
      const runs = await Promise.all(Array.from({ length: 4 }, () => runCli(['list', '--json'], host(url, a.env.NBWSS_SECRET_KEY_FILE).env)));
      for (const r of runs) expect(r.code, r.stderr).toBe(0);
      expect((await c.query('SELECT version FROM nbwss_schema')).rows).toEqual([{ version: 3 }]);
      expect((await c.query("SELECT indexname FROM pg_indexes WHERE indexname = 'poll_jobs_by_seen'")).rows).toHaveLength(1);
      expect((await c.query("SELECT to_regclass('outbox') AS t")).rows).toEqual([{ t: null }]);
      expect((await c.query('SELECT seq::int FROM notifications ORDER BY seq')).rows.map((r) => r.seq)).toEqual([1, 2, 3]);
    } finally {
      await c.end();
    }
    expect(await waiting(a.env)).toEqual(['old-group:1', 'sg1:3']);
    // SQLite: a store at schema 4 (before the index and before notifications were stored once) is upgraded to 6 on open.
    const local = newHome();
    expect((await add(local.env)).code).toBe(0);
    const { default: Database } = await import('better-sqlite3');
    const file = join(local.dir, 'nbwss.db');
    const old = new Database(file);
    old.exec(outbox('sqlite'));
    old.pragma('user_version = 4');
    old.close();
    expect((await runCli(['list', '--json'], local.env)).code).toBe(0); // a read-only command: upgraded once, read-write
    const now = new Database(file, { readonly: true });
    try {
      expect(now.pragma('user_version', { simple: true })).toBe(6);
      expect(now.prepare("SELECT name FROM sqlite_master WHERE name = 'poll_jobs_by_seen'").all()).toHaveLength(1);
      expect(now.prepare("SELECT name FROM sqlite_master WHERE name = 'outbox'").all()).toHaveLength(0);
    } finally {
      now.close();
    }
    expect(await waiting(local.env)).toEqual(['old-group:1', 'sg1:3']);
    // The daemon delivers what was waiting, in order, once.
    const d = startDaemon(local.env);
    await d.waitFor(connected('ep1.test'));
    await ep.waitForNotifications(3);
    expect(ep.notifications().map((n) => n.data.jobId)).toEqual([1, 2, 3]);
  });

  it('writers are serialised across hosts: eight nbwss notify runs at once from eight hosts queue every notification once, in one order', async () => {
    // Without the store's write lock the notification sequence (read, then write) would be handed out twice and a run fail.
    const ep = await endpoint();
    const url = await db.server().database();
    const a = host(url);
    expect((await runCli(['add', '--file', detailsFile(details({ hostName: 'ep1.test', url: ep.url, token: 'good-token' })), '--yes'], a.env)).code).toBe(0);
    const hosts = Array.from({ length: 4 }, () => host(url, a.env.NBWSS_SECRET_KEY_FILE));
    const runs = await Promise.all(
      hosts.map((h, k) => runCli(['notify'], h.env, `${Array.from({ length: 200 }, (_, i) => JSON.stringify(jobNotification(k * 1000 + i))).join('\n')}\n`)),
    );
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const rows = await query(url, 'SELECT seq, data FROM notifications ORDER BY seq');
    expect(rows).toHaveLength(800);
    expect(new Set(rows.map((r) => String(r.seq))).size).toBe(800);
    // Each run's notifications are contiguous and in its order: runs never interleave inside one another.
    const ids = rows.map((r) => JSON.parse(String(r.data)).jobId as number);
    for (let k = 0; k < 4; k++) {
      const mine = ids.map((id, i) => [id, i] as const).filter(([id]) => Math.floor(id / 1000) === k);
      expect(mine.map(([id]) => id)).toEqual(Array.from({ length: 200 }, (_, i) => k * 1000 + i));
      expect(mine.at(-1)![1] - mine[0]![1]).toBe(199);
    }
  });
});
