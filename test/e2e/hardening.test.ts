import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startReferenceEndpoint, type ReferenceEndpoint } from '../../src/reference-endpoint/index.js';
import { details, detailsFile, newHome, runCli, type Home } from '../helpers/cli.js';
import { startDaemon, stopAllDaemons } from '../helpers/daemon.js';
import { runInPty } from '../helpers/pty.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { FileSecretStore } from '../../src/core/secrets/file.js';

// What an attacker tried against the landed CLI and daemon (issue 9): each
// case failed before the change.

const endpoints: ReferenceEndpoint[] = [];
afterEach(async () => {
  await stopAllDaemons();
  await Promise.all(endpoints.splice(0).map((e) => e.close()));
});
afterAll(cleanupTempDirs);

async function endpoint(token: string): Promise<ReferenceEndpoint> {
  const e = await startReferenceEndpoint({ token });
  endpoints.push(e);
  return e;
}

/** A store whose daemon only reconciles when nudged (long period). */
function home(): Home {
  const h = newHome();
  mkdirSync(h.dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(h.dir, 'nbwss.properties'), 'connectionInfo.period=60\nnotification.sendTimeout=1000\n');
  return h;
}

const addDetails = (h: Home, d: object, ...flags: string[]) => runCli(['add', '--file', detailsFile(d), '--yes', ...flags], h.env);

/** A reference endpoint (token T) and a store holding it as a.test, group g. */
async function storeWithOne() {
  const e = await endpoint('T');
  const h = home();
  expect((await addDetails(h, { hostName: 'a.test', url: e.url, token: 'T', groupId: 'g', priority: 1 })).code).toBe(0);
  return { e, h };
}

/** storeWithOne, and its daemon connected to a.test. */
async function connectedDaemon() {
  const { e, h } = await storeWithOne();
  const d = startDaemon(h.env);
  await d.waitFor((l) => l.msg === 'connected');
  return { e, h, d };
}
const tokensSent = (e: ReferenceEndpoint) =>
  e.received.filter((m) => (m as { type?: string }).type === 'CONNECT').map((m) => (m as { payload: { token: string } }).payload.token);
/** Any raw control byte, C1 control, bidi or zero-width character reaching the terminal. */
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/;

describe('one canonical host identity', () => {
  it('a trailing dot, another case: the second add is the same entity (exit 6); the daemon never sends the real token elsewhere', async () => {
    const attacker = await endpoint('EVIL');
    const real = await endpoint('LEGIT');
    const h = home();
    expect((await addDetails(h, { hostName: 'cloudhost7.nebula.com.', url: attacker.url, token: 'EVIL', groupId: 'zz', priority: 1 })).code).toBe(0);
    const second = await addDetails(h, { hostName: 'CloudHost7.Nebula.com', url: real.url, token: 'LEGIT', groupId: 'prod', priority: 1 });
    expect(second.code).toBe(6);
    expect(second.stderr).toContain('Error: the entity already exists');
    const listed = JSON.parse((await runCli(['list', '--json'], h.env)).stdout);
    expect(listed.map((e: { hostName: string }) => e.hostName)).toEqual(['cloudhost7.nebula.com']);
    const d = startDaemon(h.env);
    await d.waitFor((l) => l.msg === 'connected');
    expect(tokensSent(attacker)).toEqual(['EVIL']);
    expect(real.connections).toBe(0);
    // Deleting by any spelling deletes the one entry and its token.
    expect((await runCli(['delete', 'CLOUDHOST7.nebula.com.', '--yes'], h.env)).code).toBe(0);
    expect(JSON.parse((await runCli(['list', '--json'], h.env)).stdout)).toEqual([]);
  });

  it('an internationalised name is stored in its punycode form; IPv6 in its compressed form', async () => {
    const e = await endpoint('T');
    const h = home();
    expect((await addDetails(h, { hostName: 'Bücher.Example', url: e.url, token: 'T', groupId: 'g', priority: 1 })).code).toBe(0);
    expect((await addDetails(h, { hostName: '0:0:0:0:0:0:0:1', url: e.url, token: 'T', groupId: 'g', priority: 2 })).code).toBe(0);
    expect((await runCli(['list', '--names'], h.env)).stdout.split('\n').filter(Boolean).sort()).toEqual(['::1', 'xn--bcher-kva.example']);
    expect((await runCli(['show', 'bücher.example.'], h.env)).code).toBe(0);
    expect((await addDetails(h, { hostName: 'xn--bcher-kva.example', url: e.url, token: 'T', groupId: 'g', priority: 3 })).code).toBe(6);
  });

  it('a store from the first schema with two names for one host: readable, the pair named, nothing else written, the daemon connects to neither', async () => {
    const e = await endpoint('T');
    const h = home();
    // The first released schema (user_version 1), as nbwss 0.1.0 wrote it.
    const db = new Database(join(h.dir, 'nbwss.db'));
    db.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
      CREATE TABLE endpoints (host_name TEXT NOT NULL COLLATE NOCASE PRIMARY KEY, url TEXT NOT NULL, group_id TEXT NOT NULL,
        priority INTEGER NOT NULL CHECK (priority >= 0), state TEXT NOT NULL CHECK (state IN ('ACTIVATED', 'DEACTIVATED')),
        pin_type TEXT NOT NULL DEFAULT 'cert' CHECK (pin_type IN ('cert', 'spki')), fingerprint TEXT NOT NULL, spki_fingerprint TEXT NOT NULL,
        not_after TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        connection_state TEXT NOT NULL DEFAULT 'DISCONNECTED' CHECK (connection_state IN ('CONNECTED', 'DISCONNECTED')), connection_since TEXT, last_error TEXT) STRICT;
      CREATE INDEX endpoints_by_group ON endpoints (group_id, priority, host_name);
      CREATE TABLE pinned_certificates (host_name TEXT NOT NULL COLLATE NOCASE PRIMARY KEY REFERENCES endpoints (host_name) ON DELETE CASCADE ON UPDATE CASCADE, cert_pem TEXT NOT NULL) STRICT;
      INSERT INTO meta VALUES ('store_id', 'aaaaaaaaaaaaaaaaaaaaaaaa'), ('secret_store', 'file');
    `);
    const fp = e.fingerprint;
    const ins = db.prepare(
      `INSERT INTO endpoints (host_name, url, group_id, priority, state, fingerprint, spki_fingerprint, not_after, created_at, updated_at) VALUES (?, ?, ?, 1, 'ACTIVATED', ?, 'x', '2030-01-01T00:00:00.000Z', 'now', 'now')`,
    );
    const pem = db.prepare('INSERT INTO pinned_certificates VALUES (?, ?)');
    for (const [name, group] of [
      ['cloud.example.', 'zz'],
      ['cloud.example', 'prod'],
      ['Other.Example', 'g2'],
    ] as const) {
      ins.run(name, e.url, group, fp);
      pem.run(name, e.certPem);
    }
    db.pragma('user_version = 1');
    db.close();
    // Their tokens, as that nbwss kept them (one account for the pair: the trailing dot was stripped).
    const secrets = new FileSecretStore(h.dir, h.keyFile);
    secrets.set('cloud.example', 'T');
    secrets.set('other.example', 'T');

    const names = (await runCli(['list', '--names'], h.env)).stdout.split('\n').filter(Boolean).sort();
    expect(names).toEqual(['cloud.example', 'cloud.example.', 'other.example']); // the lone one renamed, the pair kept
    expect((await runCli(['show', 'cloud.example.'], h.env)).code).toBe(0);
    const refused = await runCli(['deactivate', 'other.example'], h.env);
    expect(refused.code).toBe(8);
    expect(refused.stderr).toContain('one host under different names: "cloud.example" and "cloud.example."');
    const doctor = await runCli(['doctor', '--json'], h.env);
    expect(doctor.code).toBe(8);
    expect(JSON.parse(doctor.stdout).checks).toContainEqual(
      expect.objectContaining({ name: 'host names', status: 'problem', detail: expect.stringContaining('cloud.example and cloud.example.') }),
    );

    const d = startDaemon(h.env);
    await d.waitFor((l) => l.msg === 'reconciled');
    await d.waitFor((l) => l.msg === 'connected' && l.host === 'other.example');
    expect(tokensSent(e)).toHaveLength(1); // other.example only: neither of the pair
    const status = JSON.parse((await runCli(['status', '--json'], h.env)).stdout);
    expect(status.groups.filter((g: { connected: string | null }) => g.connected).map((g: { groupId: string }) => g.groupId)).toEqual(['g2']);

    // Deleting one of the pair ends the refusal; the other becomes canonical.
    expect((await runCli(['delete', 'cloud.example.', '--yes'], h.env)).code).toBe(0);
    expect((await runCli(['deactivate', 'other.example'], h.env)).code).toBe(0);
    expect((await runCli(['list', '--names'], h.env)).stdout.split('\n').filter(Boolean).sort()).toEqual(['cloud.example', 'other.example']);
  });
});

describe('a store only its owner controls', () => {
  const NOBODY = 65534;

  it('a store directory owned by someone else is refused, naming path and owner (exit 8)', async () => {
    const h = home();
    expect((await runCli(['deactivate', 'nothing.test'], h.env)).code).toBe(7); // a store, empty
    chownSync(h.dir, NOBODY, NOBODY);
    for (const args of [['list'], ['config', 'get', 'connectionInfo.period'], ['add', '--file', detailsFile(details()), '--yes']]) {
      const r = await runCli(args, h.env);
      expect(r.code, args.join(' ')).toBe(8);
      expect(r.stderr).toContain(`Error: Refusing to use ${h.dir}: it is owned by uid ${NOBODY}`);
    }
  });

  it('a directory others may write to is refused; so is one under a parent others may write to', async () => {
    const h = home();
    expect((await runCli(['deactivate', 'nothing.test'], h.env)).code).toBe(7); // a store, empty
    chmodSync(h.dir, 0o777);
    const r = await runCli(['list'], h.env);
    expect(r.code).toBe(8);
    expect(r.stderr).toContain('group or others may write to it (mode 777)');
    const parent = tempDir('nbwss-parent-');
    chmodSync(parent, 0o777);
    const nested = await runCli(['list'], { ...h.env, NBWSS_HOME: join(parent, 'store') });
    expect(nested.code).toBe(0); // nothing there yet: nothing read
    const made = await runCli(['config', 'set', 'connectionInfo.period', '30'], { ...h.env, NBWSS_HOME: join(parent, 'store') });
    expect(made.code).toBe(8);
    expect(made.stderr).toContain(`its parent ${parent} may be written by group or others`);
  });

  it('links in the store are refused, never followed: audit.log, nbwss.properties, the log file', async () => {
    const e = await endpoint('T');
    const h = home();
    const victim = join(tempDir('nbwss-victim-'), 'victim');
    writeFileSync(victim, 'untouched\n');
    chmodSync(victim, 0o644);
    symlinkSync(victim, join(h.dir, 'audit.log'));
    const r = await addDetails(h, { hostName: 'a.test', url: e.url, token: 'T', groupId: 'g', priority: 1 });
    expect(r.code).toBe(8);
    expect(r.stderr).toContain(`Refusing to use ${join(h.dir, 'audit.log')}: it is a symbolic link`);
    expect(readFileSync(victim, 'utf8')).toBe('untouched\n');
    expect(statSync(victim).mode & 0o777).toBe(0o644);
    const h2 = newHome();
    mkdirSync(h2.dir, { recursive: true, mode: 0o700 });
    symlinkSync(victim, join(h2.dir, 'nbwss.properties'), 'file');
    const cfg = await runCli(['config', 'set', 'connectionInfo.period', '30'], h2.env);
    expect(cfg.code).toBe(8);
    expect(readFileSync(victim, 'utf8')).toBe('untouched\n');
  });

  it('the key file: a device is refused at once, not read forever; one others can read is refused', async () => {
    const e = await endpoint('T');
    const h = home();
    const dev = await addDetails(h, { hostName: 'a.test', url: e.url, token: 'T', groupId: 'g', priority: 1 }, '--secret-store', 'file');
    void dev;
    const zero = await runCli(['show', 'a.test', '--show-token'], { ...h.env, NBWSS_SECRET_KEY_FILE: '/dev/zero' });
    expect(zero.code).toBe(8);
    expect(zero.stderr).toContain('Refusing to use /dev/zero: it is not a regular file');
    chmodSync(h.keyFile, 0o644);
    const loose = await runCli(['show', 'a.test', '--show-token'], h.env);
    expect(loose.code).toBe(8);
    expect(loose.stderr).toContain(`Refusing to use ${h.keyFile}: group or others may read it (mode 644)`);
  });

  it('doctor reports ownership; --fix never "fixes" a file it does not own', async () => {
    const { h } = await storeWithOne();
    const audit = join(h.dir, 'audit.log');
    chownSync(audit, NOBODY, NOBODY);
    chmodSync(audit, 0o644);
    const r = await runCli(['doctor', '--fix', '--json', '--yes'], h.env);
    expect(r.code).toBe(8);
    const own = JSON.parse(r.stdout).checks.find((c: { name: string }) => c.name === 'ownership');
    expect(own).toMatchObject({ status: 'problem', detail: expect.stringContaining(`${audit}: it is owned by uid ${NOBODY}`) });
    expect(statSync(audit).mode & 0o777).toBe(0o644);
    expect(statSync(audit).uid).toBe(NOBODY);
  });

  it('doctor without --fix creates nothing: a missing key file is named as missing, not created', async () => {
    const { h } = await storeWithOne();
    const missing = join(tempDir('nbwss-nokey-'), 'secret.key');
    const r = await runCli(['doctor', '--json'], { ...h.env, NBWSS_SECRET_KEY_FILE: missing });
    expect(r.code).toBe(8);
    expect(JSON.parse(r.stdout).checks).toContainEqual(
      expect.objectContaining({ name: 'secret store', status: 'problem', detail: `The secret key file ${missing} is missing` }),
    );
    expect(existsSync(missing)).toBe(false);
  });
});

describe('no escape sequence from outside reaches the terminal', () => {
  const hostile = '\u001b]0;pwned\u0007\u001b[2J\u009b31m\u202egnp.exe';

  it('an endpoint close reason: escaped by the daemon before it is logged, stored or reported by status', async () => {
    const { e, h, d } = await connectedDaemon();
    const from = d.mark();
    for (const c of e.clients()) c.close(4000, hostile.slice(0, 40));
    const ended = await d.waitFor((l) => l.msg === 'connection ended; the group picks again', 10_000, from);
    // The same string is what the daemon stores as last_error and keeps for status.
    expect(ended.reason).toBe(
      `closed by the endpoint (4000 ${hostile.slice(0, 40).replace(/[\u0000-\u001f\u009b\u202e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)})`,
    );
    for (const args of [['status'], ['status', '--json']]) {
      const r = await runCli(args, { ...h.env, NO_COLOR: '1' });
      expect(r.stdout + r.stderr, args.join(' ')).not.toMatch(RAW);
    }
    expect(readFileSync(join(h.dir, 'logs', 'nbwss.log'), 'utf8')).not.toMatch(/\u001b|\u009b|\u202e/);
  });

  it('a last error stored raw (by an older nbwss) is shown escaped by show and list, piped and on a real terminal', async () => {
    const e = await endpoint('T');
    const h = home();
    expect((await addDetails(h, { hostName: 'a.test', url: e.url, token: 'T', groupId: 'g\u00e9', priority: 1 })).code).toBe(0);
    const db = new Database(join(h.dir, 'nbwss.db'));
    db.prepare('UPDATE endpoints SET last_error = ?, group_id = ?').run(`closed by the endpoint (4000 ${hostile})`, `g${hostile}`);
    db.close();
    const env = { ...h.env, NO_COLOR: '1' };
    for (const args of [['show', 'a.test'], ['list'], ['show', 'a.test', '--json'], ['list', '--json']]) {
      const r = await runCli(args, env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout + r.stderr, args.join(' ')).not.toMatch(RAW);
    }
    expect((await runCli(['show', 'a.test'], env)).stdout).toContain('\\u001b]0;pwned\\u0007');
    const tty = await runInPty(['show', 'a.test'], env).done;
    expect(tty.output).toContain('\\u001b]0;pwned');
    expect(tty.output.replace(/\r\n/g, '\n')).not.toMatch(RAW); // the terminal's own line ends aside
  });

  it('a details file: unknown keys, duplicate keys and a string priority are shown escaped, in messages, the audit log and history', async () => {
    const h = home();
    // JSON escapes in the file: the parsed key holds the raw characters.
    const key = JSON.stringify(hostile);
    const unknown = await runCli(
      ['validate', '--file', detailsFile(`{"token":"t","priority":1,"groupId":"g","hostName":"h.test","url":"wss://127.0.0.1:1/x",${key}:1}`)],
      h.env,
    );
    const dup = await runCli(['add', '--file', detailsFile(`{"token":"t",${key}:1,${key}:2}`), '--yes'], h.env);
    const prio = await runCli(['add', '--file', detailsFile(details({ priority: hostile })), '--yes'], h.env);
    const c1 = await runCli(['add', '--file', detailsFile(Buffer.from('{"token": \u009b}', 'utf8')), '--yes'], h.env);
    for (const r of [unknown, dup, prio, c1]) expect(r.stderr).not.toMatch(RAW);
    expect(unknown.stderr).toContain('ignoring unknown field: \\u001b]0;pwned');
    expect([dup.code, prio.code, c1.code]).toEqual([3, 3, 3]);
    expect(readFileSync(join(h.dir, 'audit.log'), 'utf8')).not.toMatch(/\u009b|\u202e/);
    const history = await runCli(['history'], h.env);
    expect(history.stdout).not.toMatch(RAW);
  });

  it('bidi overrides and zero-width characters are refused in hostName, groupId and url (exit 3)', async () => {
    for (const d of [details({ groupId: 'prod\u202e' }), details({ url: 'wss://127.0.0.1:1/a\u200bb' }), details({ hostName: 'a\u2066.test' })]) {
      const r = await runCli(['validate', '--file', detailsFile(d)], newHome().env);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/contains a control character \(U\+(202E|200B|2066)\)/);
    }
  });
});

describe('bounds', () => {
  it('the daemon refuses a message over 1 MiB with close code 1009 and a reason, said as its own close, and stays up', async () => {
    const { e, h, d } = await connectedDaemon();
    const from = d.mark();
    e.sendToClients('x'.repeat(2 * 1024 * 1024));
    expect(await e.closedCode(1)).toBe(1009);
    expect(e.closeReasons[0]).toBe('closed by nbwss (1009): a message of 2097152 bytes, larger than 1048576');
    const ended = await d.waitFor((l) => l.msg === 'connection ended; the group picks again', 10_000, from);
    expect(ended.reason).toMatch(/^closed by nbwss \(1009\)/);
    expect((await runCli(['status', '--json'], h.env)).code).toBe(0);
  });

  it('a COMMAND REQUEST over 1 MiB whose id can be read is answered 413 and the connection stays; one beyond 16 MiB closes it (1009)', async () => {
    const { e, d } = await connectedDaemon();
    const id = 'BIG-COMMAND-1';
    const big = JSON.stringify({
      version: '1.0',
      id,
      type: 'COMMAND',
      subType: 'REQUEST',
      timeStamp: 1,
      payload: { uri: '/netbackup/x', method: 'POST', parameters: 'p'.repeat(2 * 1024 * 1024) },
    });
    e.sendToClients(big);
    const answer = await e.waitForMessage((m) => m.type === 'COMMAND' && m.subType === 'RESPONSE' && m.id === id);
    const payload = answer.payload as { responseCode: number; headers: Record<string, string>; body: string };
    expect(payload.responseCode).toBe(413);
    expect(payload.headers['x-nbwss-error']).toBe('NBWSS_REQUEST_TOO_LARGE');
    expect(JSON.parse(payload.body).errorMessage).toContain('at most 1048576 bytes');
    expect(e.closeCodes).toEqual([]);
    // Still connected: another COMMAND is answered on the same connection.
    expect((await e.command({ uri: '/netbackup/x', method: 'GET' })).type).toBe('COMMAND');
    expect(d.lines.some((l) => l.msg === 'COMMAND REQUEST larger than 1 MiB answered 413' && l.id === id)).toBe(true);
  });

  it('the control socket drops a client that sends a long line, and keeps answering', async () => {
    const h = home();
    const d = startDaemon(h.env);
    await d.waitFor((l) => l.msg === 'reconciled');
    const closed = await new Promise<boolean>((resolve) => {
      const s = connect(join(h.dir, 'daemon.sock'));
      s.on('error', () => resolve(true));
      s.on('close', () => resolve(true));
      s.on('connect', () => s.write('x'.repeat(1024 * 1024)));
    });
    expect(closed).toBe(true);
    expect(JSON.parse((await runCli(['status', '--json'], h.env)).stdout)).toMatchObject({ running: true });
  });

  it('a long NBWSS_HOME: the socket stays inside the store and status reaches it', async () => {
    const base = tempDir('nbwss-long-');
    const dir = join(base, 'a'.repeat(60), 'b'.repeat(60), 'store');
    const h = newHome({ NBWSS_HOME: dir });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(join(base, 'a'.repeat(60)), 0o700);
    chmodSync(join(base, 'a'.repeat(60), 'b'.repeat(60)), 0o700);
    const d = startDaemon(h.env);
    await d.waitFor((l) => l.msg === 'reconciled');
    expect(statSync(join(dir, 'daemon.sock')).isSocket()).toBe(true);
    expect(JSON.parse((await runCli(['status', '--json'], h.env)).stdout)).toMatchObject({ running: true, pid: d.child.pid });
  });

  it('a document of more than 1,000 endpoints is refused with a clear error (exit 3)', async () => {
    const many = Array.from({ length: 1001 }, (_, i) => details({ hostName: `h${i}.test` }));
    const r = await runCli(['validate', '--file', detailsFile(many)], newHome().env);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('the array holds 1001 endpoints; at most 1000 can be added at once');
  });
});

describe('writes that neither lose nor misreport', () => {
  it('concurrent config set of 7 different keys: all 7 land', async () => {
    for (let trial = 0; trial < 3; trial++) {
      const h = home();
      const sets: [string, string][] = [
        ['exception.ignoreDecoder', 'true'],
        ['notification.scheduledRate', '7'],
        ['keepAlive.scheduledRate', '11'],
        ['keepAlive.maxPongMissAllowed', '4'],
        ['connectionInfo.period', '33'],
        ['scheduledExecutor.threadPoolSize', '3'],
        ['notification.sendTimeout', '2500'],
      ];
      const runs = await Promise.all(sets.map(([k, v]) => runCli(['config', 'set', k, v], h.env)));
      expect(runs.map((r) => r.code)).toEqual(sets.map(() => 0));
      const listed = JSON.parse((await runCli(['config', 'list', '--json'], h.env)).stdout) as { key: string; value: unknown }[];
      for (const [k, v] of sets) expect(String(listed.find((x) => x.key === k)!.value), k).toBe(v);
    }
  });

  it('delete when the secret store fails after the entries are gone: says so truthfully, and the daemon lets go', async () => {
    const { h, d } = await connectedDaemon();
    const from = d.mark();
    const r = await runCli(['delete', 'a.test', '--yes'], { ...h.env, NBWSS_SECRET_KEY_FILE: join(tempDir('nbwss-gone-'), 'secret.key') });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Deleted a.test.');
    expect(r.stderr).toContain('the entries are deleted, but their tokens are left in the file secret store');
    expect(r.stderr).toContain('nbwss doctor --fix');
    await d.waitFor((l) => l.msg === 'closing connection' && l.host === 'a.test', 10_000, from);
    const audit = readFileSync(join(h.dir, 'audit.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(audit.at(-1)).toMatchObject({ command: 'delete', hosts: ['a.test'], outcome: 'ok', detail: 'tokens left in the file secret store' });
  });

  it('a damaged nbwss.db: readers exit 8 with a hint, not 1 "This is a bug"', async () => {
    const h = home();
    writeFileSync(join(h.dir, 'nbwss.db'), Buffer.alloc(8192, 0x41));
    chmodSync(join(h.dir, 'nbwss.db'), 0o600);
    for (const args of [['list'], ['show', 'x.test'], ['check']]) {
      const r = await runCli(args, h.env);
      expect(r.code, args.join(' ')).toBe(8);
      expect(r.stderr).not.toContain('This is a bug');
      expect(r.stderr).toContain('nbwss doctor checks it');
    }
  });

  it('a second SIGTERM during shutdown waits for the graceful stop: exit 0, nothing left CONNECTED', async () => {
    const { h, d } = await connectedDaemon();
    d.child.kill('SIGTERM');
    d.child.kill('SIGTERM');
    const r = await d.exited;
    expect(r).toMatchObject({ code: 0, signal: null });
    expect(JSON.parse((await runCli(['list', '--json'], h.env)).stdout)[0].connectionState).toBe('DISCONNECTED');
  });
});

describe('secrets shown where they should not be', () => {
  it('add --json masks the query string of the url', async () => {
    const e = await endpoint('T');
    const h = home();
    const r = await addDetails(h, { hostName: 'a.test', url: `${e.url}?key=S3CRET`, token: 'T', groupId: 'g', priority: 1 }, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('S3CRET');
    expect(JSON.parse(r.stdout)[0].url).toBe(`${e.url}?<redacted>`);
  });

  it('user:password@ in a details url is masked in the error and the audit log', async () => {
    const h = home();
    const r = await runCli(['add', '--file', detailsFile(details({ url: 'wss://admin:hunter2@127.0.0.1/x' })), '--yes'], h.env);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('Malformed URL: wss://<redacted>@127.0.0.1/x');
    expect(r.stderr + readFileSync(join(h.dir, 'audit.log'), 'utf8')).not.toContain('hunter2');
  });
});
