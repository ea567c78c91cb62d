import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ReferenceEndpoint, startReferenceEndpoint } from '../../src/reference-endpoint/index.js';
import { STORE_FILES } from '../../src/core/store/fs.js';
import { collect } from '../helpers/cli.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { until } from '../helpers/wait.js';

/*
 * npm run release (scripts/release.mjs) as an administrator meets its artifacts: the self-contained tarball run
 * through a symlink with no Node on PATH, the Debian package read by dpkg-deb and lintian, the RPM read by rpm and
 * installed into a --root, the checksums, and the glibc the README promises (read off the binaries with objdump).
 * A real `dpkg -i` on this machine (it adds a system user and writes /usr, /etc, /var/lib) runs only where the
 * machine is ours to change: CI (.ci/run, as root, sets NBWSS_TEST_SYSTEM_PACKAGES=1).
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN_CJS = join(ROOT, 'bin/nbwss.cjs');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const V = pkg.version;
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const ci = process.env.CI === 'true';
for (const tool of ['dpkg-deb', 'lintian', 'rpmbuild', 'objdump'])
  if (!has(tool) && ci) throw new Error(`${tool} is not installed (CI=true: .ci/run installs dpkg-dev/lintian/rpm/binutils)`);
const canBuild = has('dpkg-deb') && has('objdump') && has('strip');

let out: string;
let ep: ReferenceEndpoint;
beforeAll(async () => {
  if (!canBuild) return;
  out = tempDir('nbwss-release-');
  // The release of this checkout, from the build npm test made (npm run release = npm run build + this script).
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/release.mjs')], {
    cwd: ROOT,
    env: { ...process.env, NBWSS_RELEASE_DIR: out },
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (r.status !== 0) throw new Error(`scripts/release.mjs failed: ${r.stderr}${r.stdout}`);
  ep = await startReferenceEndpoint({ token: 'release-token' });
}, 660_000);
afterAll(async () => {
  await ep?.close();
  cleanupTempDirs();
});

/** Run a program with a clean environment (no Node on PATH unless given); resolves with its output and exit code. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string) {
  return collect(spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] }), input);
}

/** The highest version of each symbol family (GLIBC, GLIBCXX) a binary asks for, as objdump -T shows it. */
function needs(file: string): Record<string, string> {
  const text = spawnSync('objdump', ['-T', file], { encoding: 'utf8' }).stdout;
  const top: Record<string, string> = {};
  for (const [, family, version] of text.matchAll(/\((GLIBC|GLIBCXX)_([0-9.]+)\)/g)) {
    const cur = top[family!];
    if (!cur || cmpVersion(version!, cur) > 0) top[family!] = version!;
  }
  return top;
}
const cmpVersion = (a: string, b: string) => {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
};

describe.skipIf(!canBuild)('npm run release: a self-contained tarball', () => {
  it('SHA256SUMS names every artifact and sha256sum -c agrees', () => {
    const sums = readFileSync(join(out, 'SHA256SUMS'), 'utf8');
    const names = sums
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/)[1]);
    expect(names).toEqual(expect.arrayContaining([`nbwss-${V}-linux-x64.tar.gz`, `nbwss_${V}_amd64.deb`]));
    const c = spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: out, encoding: 'utf8' });
    expect(c.status, c.stdout + c.stderr).toBe(0);
  });

  it('runs from any directory through a symlink on a PATH without Node: add, list, the daemon connects, lab endpoint; its code cache is used', async () => {
    const dir = tempDir('nbwss-opt-');
    const x = spawnSync('tar', ['-xzf', join(out, `nbwss-${V}-linux-x64.tar.gz`), '-C', dir]);
    expect(x.status).toBe(0);
    const top = join(dir, `nbwss-${V}-linux-x64`);
    for (const f of [
      'bin/nbwss',
      'runtime/node',
      'runtime/LICENSE',
      'app/dist/cli.cjs.cache',
      'share/man/man1/nbwss.1',
      'share/bash-completion/completions/nbwss',
    ])
      expect(existsSync(join(top, f)), f).toBe(true);
    // PATH: the symlink, and readlink (the launcher's one outside tool) — no node anywhere on it.
    const pathDir = tempDir('nbwss-path-');
    symlinkSync(join(top, 'bin/nbwss'), join(pathDir, 'nbwss'));
    symlinkSync(spawnSync('sh', ['-c', 'command -v readlink'], { encoding: 'utf8' }).stdout.trim(), join(pathDir, 'readlink'));
    expect(spawnSync('sh', ['-c', 'command -v node'], { env: { PATH: pathDir } }).status).not.toBe(0);
    const home = tempDir('nbwss-rel-home-');
    const env = { PATH: pathDir, HOME: home, NBWSS_HOME: join(home, 'store'), NBWSS_SECRET_STORE: 'file', NBWSS_SECRET_KEY_FILE: join(home, 'secret.key') };
    const version = await run('/bin/sh', ['-c', 'cd / && nbwss --version'], env);
    expect(version.stdout.trim()).toBe(V);
    const file = join(home, 'endpoint.json');
    writeFileSync(file, JSON.stringify(ep.details({ hostName: 'rel.test' })), { mode: 0o600 });
    const add = await run('/bin/sh', ['-c', `cd / && NBWSS_DEBUG_CODE_CACHE=1 nbwss add --file ${file} --yes`], env);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stderr).toContain('nbwss: code cache accepted');
    // A stack trace (NBWSS_DEBUG=1) names no directory of the machine that built the release.
    const traced = await run('/bin/sh', ['-c', 'NBWSS_DEBUG=1 nbwss add --file /nonexistent/details.json'], env);
    expect(traced.stderr).toMatch(/\n\s+at .*nbwss\/dist\/cli\.cjs:\d+:\d+/);
    expect(traced.stderr).not.toContain(ROOT);
    const list = await run('/bin/sh', ['-c', 'nbwss list --json'], env);
    expect(JSON.parse(list.stdout)).toMatchObject([{ hostName: 'rel.test', state: 'ACTIVATED' }]);
    // The daemon from the tarball connects (its ws, pino, undici come from app/node_modules).
    const daemon = spawn(join(pathDir, 'nbwss'), ['daemon', '--log-stderr'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    daemon.stderr!.on('data', (d) => (log += d));
    try {
      await until(() => log.includes('"msg":"connected"'), 30_000, 'the tarball daemon connected');
    } finally {
      daemon.kill('SIGTERM');
      await new Promise((r) => daemon.on('exit', r));
    }
    // The lab's endpoint from the installed copy (not a checkout): its own --help, exit 0.
    const lab = await run('/bin/sh', ['-c', 'nbwss lab endpoint --help'], env);
    expect(lab.code, lab.stderr).toBe(0);
    expect(lab.stdout).toContain('usage: nbwss lab endpoint');
    // man reads the page where the tarball keeps it.
    if (has('man'))
      expect(spawnSync('man', ['-M', join(top, 'share/man'), '-w', 'nbwss'], { encoding: 'utf8' }).stdout.trim()).toBe(join(top, 'share/man/man1/nbwss.1'));
  }, 120_000);

  it('the README names the glibc and libstdc++ versions the runtime and the addons need, as objdump reads them', () => {
    const dir = tempDir('nbwss-abi-');
    spawnSync('tar', ['-xzf', join(out, `nbwss-${V}-linux-x64.tar.gz`), '-C', dir]);
    const top = join(dir, `nbwss-${V}-linux-x64`);
    const binaries = [join(top, 'runtime/node')];
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true }))
        if (e.isDirectory()) walk(join(d, e.name));
        else if (e.name.endsWith('.node')) binaries.push(join(d, e.name));
    };
    walk(join(top, 'app'));
    const worst: Record<string, string> = {};
    for (const b of binaries)
      for (const [family, version] of Object.entries(needs(b))) if (!worst[family] || cmpVersion(version, worst[family]!) > 0) worst[family] = version;
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(`\`GLIBC_${worst.GLIBC}\``);
    expect(readme).toContain(`\`GLIBCXX_${worst.GLIBCXX}\``);
    // The packages say the same.
    const control = spawnSync('dpkg-deb', ['-f', join(out, `nbwss_${V}_amd64.deb`), 'Depends'], { encoding: 'utf8' }).stdout;
    expect(control).toContain(`libc6 (>= ${worst.GLIBC})`);
  });
});

describe.skipIf(!canBuild)('npm run release: the Debian package', () => {
  it('puts each file where Debian looks: /usr/bin/nbwss, the program under /usr/lib/nbwss, the unit, logrotate, completions, the man page', () => {
    const deb = join(out, `nbwss_${V}_amd64.deb`);
    const files = spawnSync('dpkg-deb', ['-c', deb], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 })
      .stdout.split('\n')
      .map((l) => l.replace(/^.*?\.\//, '/').replace(/ -> .*$/, ''));
    for (const f of [
      '/usr/bin/nbwss',
      '/usr/lib/nbwss/bin/nbwss',
      '/usr/lib/nbwss/runtime/node',
      '/usr/lib/nbwss/app/dist/cli.cjs',
      '/lib/systemd/system/nbwss.service',
      '/etc/logrotate.d/nbwss',
      '/usr/share/bash-completion/completions/nbwss',
      '/usr/share/zsh/vendor-completions/_nbwss',
      '/usr/share/fish/vendor_completions.d/nbwss.fish',
      '/usr/share/man/man1/nbwss.1.gz',
      '/usr/share/doc/nbwss/copyright',
    ])
      expect(files, f).toContain(f);
    const info = spawnSync('dpkg-deb', ['-I', deb], { encoding: 'utf8' }).stdout;
    expect(info).toMatch(/Package: nbwss\n/);
    expect(info).toContain(`Version: ${V}`);
    expect(info).toMatch(/postinst|postrm/);
    const postinst = spawnSync('dpkg-deb', ['-I', deb, 'postinst'], { encoding: 'utf8' }).stdout;
    expect(postinst).toContain('adduser --system --group --home /var/lib/nbwss');
    // The files a first install hands to the service account are the store's own, all of them (no recursive chown).
    for (const f of STORE_FILES) expect(postinst, f).toContain(`"$dir"/${f}`);
    const postrm = spawnSync('dpkg-deb', ['-I', deb, 'postrm'], { encoding: 'utf8' }).stdout;
    expect(postrm).toMatch(/"\$1" = purge[\s\S]*rm -rf \/var\/lib\/nbwss/);
  });

  it.skipIf(!has('lintian'))(
    'is lintian-clean: no error, no warning (two overrides for the Node runtime, one for scripts run only through it)',
    () => {
      const r = spawnSync('lintian', ['--fail-on', 'error,warning', join(out, `nbwss_${V}_amd64.deb`)], { encoding: 'utf8', timeout: 300_000 });
      const tags = r.stdout.split('\n').filter((l) => /^[EW]: /.test(l));
      expect(tags).toEqual([]);
      expect(r.status, r.stdout + r.stderr).toBe(0);
    },
    320_000,
  );
});

describe.skipIf(!canBuild || !has('rpmbuild'))('npm run release: the RPM', () => {
  it('lists the files where RPM distributions look, and installs into a --root (without its scriptlets) where its nbwss runs', async () => {
    const rpm = join(out, `nbwss-${V}-1.x86_64.rpm`);
    const files = spawnSync('rpm', ['-qpl', rpm], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 }).stdout.split('\n');
    for (const f of [
      '/usr/bin/nbwss',
      '/usr/lib/systemd/system/nbwss.service',
      '/usr/share/zsh/site-functions/_nbwss',
      '/etc/logrotate.d/nbwss',
      '/var/lib/nbwss',
    ])
      expect(files, f).toContain(f);
    const requires = spawnSync('rpm', ['-qp', '--requires', rpm], { encoding: 'utf8' }).stdout;
    expect(requires).toMatch(/glibc >= 2\.\d+/);
    const scripts = spawnSync('rpm', ['-qp', '--scripts', rpm], { encoding: 'utf8' }).stdout;
    expect(scripts).toContain('useradd -r -g nbwss -d /var/lib/nbwss');
    const root = tempDir('nbwss-rpmroot-');
    expect(spawnSync('rpm', ['--root', root, '--initdb']).status).toBe(0);
    const i = spawnSync('rpm', ['--root', root, '-i', '--nodeps', '--noscripts', '--nosignature', rpm], { encoding: 'utf8' });
    expect(i.status, i.stderr).toBe(0);
    expect((await run(join(root, 'usr/bin/nbwss'), ['--version'], { PATH: '/usr/bin:/bin' })).stdout.trim()).toBe(V);
  }, 120_000);
});

const systemInstall = process.env.NBWSS_TEST_SYSTEM_PACKAGES === '1' && process.getuid?.() === 0 && has('dpkg');
describe.skipIf(!canBuild || !systemInstall)('the Debian package installed for real (dpkg -i on this machine; CI only)', () => {
  it('install makes the nbwss user, /var/lib/nbwss and /etc/nbwss; its account runs nbwss with the system places; remove keeps the store, purge removes it', async () => {
    const deb = join(out, `nbwss_${V}_amd64.deb`);
    // Root ran nbwss here before (its store is /var/lib/nbwss): the first install makes that store the service's.
    const rootRan = spawnSync('/usr/bin/env', [process.execPath, BIN_CJS, 'config', 'set', 'connectionInfo.period', '45'], {
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin', HOME: '/root', NBWSS_SECRET_STORE: 'file' },
    });
    expect(rootRan.status, rootRan.stderr).toBe(0);
    expect(statSync('/var/lib/nbwss').uid).toBe(0);
    const i = spawnSync('dpkg', ['-i', deb], { encoding: 'utf8' });
    try {
      expect(i.status, i.stderr).toBe(0);
      expect(spawnSync('getent', ['passwd', 'nbwss'], { encoding: 'utf8' }).stdout).toMatch(/^nbwss:x:\d+:\d+:[^:]*:\/var\/lib\/nbwss:/);
      for (const d of ['/var/lib/nbwss', '/etc/nbwss']) expect((statSync(d).mode & 0o777).toString(8), d).toBe('700');
      expect(spawnSync('/usr/bin/nbwss', ['--version'], { encoding: 'utf8' }).stdout.trim()).toBe(V);
      if (has('man')) expect(spawnSync('man', ['-w', 'nbwss'], { encoding: 'utf8' }).stdout.trim()).toBe('/usr/share/man/man1/nbwss.1.gz');
      // The service account: /var/lib/nbwss and the file secret store by default, as the unit runs the daemon.
      const share = tempDir('nbwss-deb-');
      chmodSync(share, 0o755);
      const file = join(share, 'endpoint.json');
      writeFileSync(file, JSON.stringify(ep.details({ hostName: 'deb.test' })), { mode: 0o644 });
      const runuser = spawnSync('sh', ['-c', 'command -v runuser'], { encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } }).stdout.trim();
      const as = (args: string[]) => run(runuser, ['-u', 'nbwss', '--', '/usr/bin/nbwss', ...args], { PATH: '/usr/bin:/bin', HOME: '/var/lib/nbwss' });
      const add = await as(['add', '--file', file, '--yes']);
      expect(add.code, add.stderr).toBe(0);
      expect(existsSync('/var/lib/nbwss/nbwss.db')).toBe(true);
      expect(existsSync('/etc/nbwss/secret.key')).toBe(true);
      expect(JSON.parse((await as(['list', '--json'])).stdout)).toMatchObject([{ hostName: 'deb.test' }]);
      // Root's earlier setting is the service's now.
      expect((await as(['config', 'get', 'connectionInfo.period'])).stdout.trim()).toBe('45');
      // Root is pointed at the service's account, not told to chown the store.
      const asRoot = await run('/usr/bin/nbwss', ['list'], { PATH: '/usr/bin:/bin', HOME: '/root' });
      expect(asRoot.code).toBe(8);
      expect(asRoot.stderr).toContain('sudo -u nbwss nbwss list');
      const d: ChildProcess = spawn(runuser, ['-u', 'nbwss', '--', '/usr/bin/nbwss', 'daemon', '--log-stderr'], {
        env: { PATH: '/usr/bin:/bin' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let log = '';
      d.stderr!.on('data', (x) => (log += x));
      try {
        await until(() => log.includes('"msg":"connected"'), 30_000, 'the packaged daemon connected as nbwss');
      } finally {
        d.kill('SIGTERM');
        await new Promise((r) => d.on('exit', r));
      }
      expect(spawnSync('dpkg', ['-r', 'nbwss']).status).toBe(0);
      expect(existsSync('/usr/bin/nbwss')).toBe(false);
      expect(existsSync('/var/lib/nbwss/nbwss.db')).toBe(true); // remove keeps the store
    } finally {
      const p = spawnSync('dpkg', ['-P', 'nbwss'], { encoding: 'utf8' });
      expect(p.status, p.stderr).toBe(0);
    }
    expect(existsSync('/var/lib/nbwss')).toBe(false);
    expect(existsSync('/etc/nbwss')).toBe(false);
    expect(spawnSync('getent', ['passwd', 'nbwss']).status).not.toBe(0);
  }, 180_000);
});
