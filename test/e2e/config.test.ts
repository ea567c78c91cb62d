import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newHome, runCli } from '../helpers/cli.js';
import { cleanupTempDirs } from '../helpers/tmp.js';

afterAll(cleanupTempDirs);

// The guide's default file, with its comments and the vendor-only keys.
const GUIDE_FILE = `#Properties file for NetBackup WebSocket Service
exception.ignoreDecoder=false
notification.sendTimeout=2000
notification.scheduledRate=5
keepAlive.scheduledRate=30
keepAlive.maxPongMissAllowed=10
connectionInfo.period=60
scheduledExecutor.threadPoolSize=1

#Hibernate properties
hibernate.format_sql=true
hibernate.show_sql=false
hibernate.hbm2ddl.auto=update
hibernate.dialect=org.hibernate.dialect.SybaseDialect
`;

function homeWithFile(text?: string) {
  const h = newHome();
  mkdirSync(h.dir, { recursive: true, mode: 0o700 });
  if (text !== undefined) writeFileSync(join(h.dir, 'nbwss.properties'), text);
  return h;
}
const file = (h: { dir: string }) => readFileSync(join(h.dir, 'nbwss.properties'), 'utf8');

describe('nbwss config', () => {
  it('get prints the default when unset', async () => {
    const h = homeWithFile();
    const r = await runCli(['config', 'get', 'connectionInfo.period'], h.env);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('60\n');
    expect((await runCli(['config', 'get', 'exception.ignoreDecoder'], h.env)).stdout).toBe('false\n');
  });

  it('set changes one value in place, keeping comments, order, other keys and the hibernate keys byte for byte', async () => {
    const h = homeWithFile(GUIDE_FILE);
    const r = await runCli(['config', 'set', 'connectionInfo.period', '30'], h.env);
    expect(r.code).toBe(0);
    expect(file(h)).toBe(GUIDE_FILE.replace('connectionInfo.period=60', 'connectionInfo.period=30'));
    expect((await runCli(['config', 'get', 'connectionInfo.period'], h.env)).stdout).toBe('30\n');
  });

  it('set appends a key the file does not have; unset removes it again', async () => {
    const original = '# mine\nkeepAlive.scheduledRate=15\n';
    const h = homeWithFile(original);
    expect((await runCli(['config', 'set', 'exception.ignoreDecoder', 'TRUE'], h.env)).code).toBe(0);
    expect(file(h)).toBe(`${original}exception.ignoreDecoder=true\n`);
    expect((await runCli(['config', 'unset', 'exception.ignoreDecoder'], h.env)).code).toBe(0);
    expect(file(h)).toBe(original);
    expect((await runCli(['config', 'get', 'exception.ignoreDecoder'], h.env)).stdout).toBe('false\n');
  });

  it.each([
    [['set', 'connectionInfo.period', 'soon'], 'connectionInfo.period must be a whole number of seconds from 1 to 86400, not "soon"'],
    [['set', 'connectionInfo.period', '0'], 'connectionInfo.period must be a whole number of seconds from 1 to 86400, not 0'],
    [['set', 'notification.sendTimeout', '-5'], 'notification.sendTimeout must be a whole number of milliseconds'],
    [['set', 'exception.ignoreDecoder', 'yes'], 'exception.ignoreDecoder must be true or false, not "yes"'],
    [['set', 'connectionInfo.perod', '5'], 'Unknown property connectionInfo.perod'],
    [['get', 'nope'], 'Unknown property nope'],
    [['set', 'hibernate.show_sql', 'true'], 'hibernate.show_sql is a vendor-only property'],
    [['unset', 'hibernate.dialect'], 'hibernate.dialect is a vendor-only property'],
  ])('%j is refused with a clear error (exit 2) and the file is untouched', async (args, msg) => {
    const h = homeWithFile(GUIDE_FILE);
    const r = await runCli(['config', ...args], h.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(msg);
    expect(file(h)).toBe(GUIDE_FILE);
  });

  it('an unknown key suggests the right one', async () => {
    const r = await runCli(['config', 'get', 'period'], homeWithFile().env);
    expect(r.stderr).toContain('Did you mean connectionInfo.period?');
  });

  it('list shows value, default, whether set, and reports hibernate keys as vendor-only (--json too)', async () => {
    const h = homeWithFile('connectionInfo.period=45\nhibernate.show_sql=false\n');
    const j = JSON.parse((await runCli(['config', 'list', '--json'], h.env)).stdout);
    expect(j.find((v: { key: string }) => v.key === 'connectionInfo.period')).toMatchObject({
      value: 45,
      default: 60,
      set: true,
      vendorOnly: false,
      unit: 's',
    });
    expect(j.find((v: { key: string }) => v.key === 'keepAlive.maxPongMissAllowed')).toMatchObject({ value: 10, default: 10, set: false });
    expect(j.find((v: { key: string }) => v.key === 'hibernate.show_sql')).toMatchObject({ value: 'false', vendorOnly: true });
    expect(j.find((v: { key: string }) => v.key === 'api.baseUrl')).toMatchObject({ value: 'https://localhost:1556/netbackup', nbwss: true, set: false });
    expect(j.find((v: { key: string }) => v.key === 'connectionInfo.period')).toMatchObject({ nbwss: false });
    expect(j).toHaveLength(27);
    const text = await runCli(['config', 'list'], h.env);
    expect(text.stdout).toMatch(/connectionInfo\.period\s+45\s+60\s+set/);
    expect(text.stdout).toMatch(/hibernate\.show_sql\s+false\s+-\s+vendor-only/);
  });

  it("set creates the file 0600 with the guide's header when there is none", async () => {
    const h = newHome();
    expect((await runCli(['config', 'set', 'keepAlive.maxPongMissAllowed', '3'], h.env)).code).toBe(0);
    expect(file(h)).toBe('#Properties file for NetBackup WebSocket Service\nkeepAlive.maxPongMissAllowed=3\n');
  });
});
