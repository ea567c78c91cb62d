import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCert } from '../helpers/certs.js';
import { details, detailsFile, newHome, runCli, type Home } from '../helpers/cli.js';
import { startSecretService, type SecretService } from '../helpers/secret-service.js';
import { startTlsServer, type TlsServer } from '../helpers/servers.js';
import { fileTokens, storeBytes, storeRows } from '../helpers/store.js';
import { cleanupTempDirs } from '../helpers/tmp.js';

// The real Secret Service (gnome-keyring on a private session bus). Where it
// cannot be started these tests report themselves skipped, loudly; under
// CI=true that is a failure instead.
const started = await startSecretService();
const unavailable = 'unavailable' in started ? started.unavailable : undefined;
if (unavailable) {
  const msg = `KEYCHAIN TESTS NOT RUN: ${unavailable}`;
  if (process.env.CI === 'true') throw new Error(`${msg} (CI=true: the keychain must be tested)`);
  console.warn(`\n*** ${msg} ***\n`);
}
const service = started as SecretService;
const PROBE = fileURLToPath(new URL('../helpers/keyring-probe.mjs', import.meta.url));

let server: TlsServer;
beforeAll(async () => {
  server = await startTlsServer(makeCert());
});
afterAll(async () => {
  await server?.close();
  if (!unavailable) await service.stop();
  cleanupTempDirs();
});

function keychainHome(): Home {
  const h = newHome(service.env);
  delete h.env.NBWSS_SECRET_STORE; // keychain is the default
  return h;
}
const storeId = (h: Home) => {
  const db = new Database(join(h.dir, 'nbwss.db'), { readonly: true });
  try {
    return (db.prepare("SELECT value FROM meta WHERE key = 'store_id'").get() as { value: string }).value;
  } finally {
    db.close();
  }
};
const probe = (args: string[]) =>
  JSON.parse(
    spawnSync(process.execPath, [PROBE, ...args], { env: service.env, encoding: 'utf8', cwd: fileURLToPath(new URL('../..', import.meta.url)) }).stdout,
  );

describe.skipIf(unavailable !== undefined)('the OS keychain (Secret Service)', () => {
  it('add puts the token in the Secret Service under nbwss:<storeId>; delete removes it', async () => {
    const h = keychainHome();
    const r = await runCli(['add', '--file', detailsFile(details({ hostName: 'Cloud.Example.com', token: 'kc-token-1', url: server.url() })), '--yes'], h.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('token saved in the keychain secret store');
    const svc = `nbwss:${storeId(h)}`;
    expect(probe([svc, 'cloud.example.com'])).toBe('kc-token-1');
    expect(storeBytes(h).includes(Buffer.from('kc-token-1'))).toBe(false);
    const shown = await runCli(['show', 'cloud.example.com', '--show-token', '--json'], h.env);
    expect(JSON.parse(shown.stdout).token).toBe('kc-token-1');
    const d = await runCli(['delete', 'cloud.example.com', '--yes'], h.env);
    expect(d.code).toBe(0);
    expect(probe([svc, 'cloud.example.com'])).toBeNull();
  });

  it("two stores on one machine never see each other's tokens", async () => {
    const a = keychainHome();
    const b = keychainHome();
    for (const [h, t] of [
      [a, 'token-a'],
      [b, 'token-b'],
    ] as const) {
      expect((await runCli(['add', '--file', detailsFile(details({ hostName: 'same.test', token: t, url: server.url() })), '--yes'], h.env)).code).toBe(0);
    }
    expect(storeId(a)).not.toBe(storeId(b));
    expect(probe([`nbwss:${storeId(a)}`, 'same.test'])).toBe('token-a');
    expect(probe([`nbwss:${storeId(b)}`, 'same.test'])).toBe('token-b');
  });

  it('the first add records the choice: later runs use the keychain without being told', async () => {
    const h = keychainHome();
    expect(
      (await runCli(['add', '--file', detailsFile(details({ hostName: 'a.test', url: server.url() })), '--yes', '--secret-store', 'keychain'], h.env)).code,
    ).toBe(0);
    const r = await runCli(['add', '--file', detailsFile(details({ hostName: 'b.test', url: server.url() })), '--yes', '--secret-store', 'file'], h.env);
    expect(r.code).toBe(8);
    expect(r.stderr).toContain('This store keeps its tokens in the keychain secret store, but --secret-store asks for file');
  });

  it('a recorded choice wins over the default: a store that chose file keeps using file, untold, with a keychain at hand', async () => {
    const h = keychainHome();
    expect(
      (
        await runCli(
          ['add', '--file', detailsFile(details({ hostName: 'a.test', token: 'token-a', url: server.url() })), '--yes', '--secret-store', 'file'],
          h.env,
        )
      ).code,
    ).toBe(0);
    const c = await runCli(['add', '--file', detailsFile(details({ hostName: 'c.test', token: 'token-c', url: server.url() })), '--yes'], h.env);
    expect(c.code, c.stderr).toBe(0);
    expect(fileTokens(h)).toEqual({ 'a.test': 'token-a', 'c.test': 'token-c' });
    expect(probe([`nbwss:${storeId(h)}`])).toEqual([]);
  });

  it('10 parallel adds of different hosts all land with their tokens', async () => {
    const h = keychainHome();
    const hosts = Array.from({ length: 10 }, (_, i) => `kc${i}.test`);
    const results = await Promise.all(
      hosts.map((x) => runCli(['add', '--file', detailsFile(details({ hostName: x, token: `t-${x}`, url: server.url() })), '--yes'], h.env)),
    );
    expect(results.map((r) => r.code)).toEqual(hosts.map(() => 0));
    expect(storeRows(h)).toHaveLength(10);
    const svc = `nbwss:${storeId(h)}`;
    expect(probe([svc])).toEqual([...hosts].sort());
    for (const x of hosts) expect(probe([svc, x])).toBe(`t-${x}`);
  });
});
