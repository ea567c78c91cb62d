import { execFile, spawn } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReferenceEndpoint, type ReferenceEndpoint } from '../../src/reference-endpoint/index.js';
import { PROPERTY_KEYS } from '../../src/core/config/properties.js';
import { ENVIRONMENT } from '../../src/cli/exit-codes.js';
import { baseEnv, collect, detailsFile, type RunResult } from '../helpers/cli.js';
import { startLocalRegistry, type LocalRegistry } from '../helpers/registry.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

// What a user does: npm pack, npm install -g the tarball, run the installed
// nbwss from another directory. The registry is a stand-in on 127.0.0.1
// (test/helpers/registry.ts), so nothing leaves this machine.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const exec = promisify(execFile);

let registry: LocalRegistry;
let tarball: string;
let prefix: string;
let endpoint: ReferenceEndpoint;
const elsewhere = tempDir('nbwss-elsewhere-');

/** The installed nbwss, run from a directory that is not the checkout. */
function nbwss(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  const child = spawn(join(prefix, 'bin', 'nbwss'), args, { cwd: elsewhere, env: { ...baseEnv(), HOME: elsewhere, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  return collect(child);
}

beforeAll(async () => {
  // A copy of the checkout (sources, no dist/), so npm pack's prepack builds as it would for a release.
  const src = tempDir('nbwss-src-');
  cpSync(ROOT, src, { recursive: true, filter: (p) => !/\/(node_modules|dist|\.tmp|\.git)$/.test(p) && !p.endsWith('.tgz') });
  symlinkSync(join(ROOT, 'node_modules'), join(src, 'node_modules'));
  const out = tempDir('nbwss-pack-');
  const { stdout } = await exec('npm', ['pack', '--json', '--pack-destination', out], {
    cwd: src,
    env: { ...process.env, npm_config_update_notifier: 'false' },
    maxBuffer: 16 * 1024 * 1024,
  });
  tarball = join(out, (JSON.parse(stdout.slice(stdout.indexOf('['))) as { filename: string }[])[0]!.filename);
  registry = await startLocalRegistry(ROOT);
  prefix = tempDir('nbwss-prefix-');
  await exec('npm', ['install', '-g', '--prefix', prefix, tarball], { cwd: elsewhere, env: { ...process.env, ...registry.env }, maxBuffer: 16 * 1024 * 1024 });
  endpoint = await startReferenceEndpoint({ token: 'installed-token' });
}, 600_000);

afterAll(async () => {
  await endpoint?.close();
  await registry?.close();
  cleanupTempDirs();
});

describe('the packed package, installed with npm install -g', () => {
  it('the tarball holds what runs and nothing of the tests or sources', async () => {
    const { stdout } = await exec('tar', ['-tzf', tarball]);
    const files = stdout.trim().split('\n').sort();
    expect(files).toEqual(
      expect.arrayContaining([
        'package/bin/nbwss.cjs',
        'package/dist/cli.cjs',
        'package/dist/cli.cjs.cache',
        'package/dist/version.cjs',
        'package/dist/nbwss.1',
        'package/LICENSE',
        'package/README.md',
        'package/completions/nbwss.bash',
        'package/completions/_nbwss',
        'package/completions/nbwss.fish',
        'package/contrib/nbwss.service',
      ]),
    );
    expect(files.filter((f) => /^package\/(src|test|bench|scripts|\.ci)\//.test(f))).toEqual([]);
  });

  it('runs from any directory: --version, and the code cache is accepted although npm did not keep the mtimes', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const v = await nbwss(['--version']);
    expect(v).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
    const home = tempDir('nbwss-installed-home-');
    const r = await nbwss(['list', '--json'], { NBWSS_HOME: join(home, 'store'), NBWSS_DEBUG_CODE_CACHE: '1' });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('nbwss: code cache accepted\n');
  });

  it('adds an endpoint, lists it, and its daemon connects; status says so', async () => {
    const root = tempDir('nbwss-installed-');
    const env = { NBWSS_HOME: join(root, 'store'), NBWSS_SECRET_KEY_FILE: join(root, 'secret.key') };
    const file = detailsFile(endpoint.details({ hostName: 'installed.test', groupId: 'g1' }));
    const added = await nbwss(['add', '--file', file, '--yes', '--secret-store', 'file'], env);
    expect(added.code, added.stderr).toBe(0);
    const list = await nbwss(['list', '--json'], env);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ hostName: 'installed.test', groupId: 'g1', state: 'ACTIVATED' })]);

    const daemon = spawn(join(prefix, 'bin', 'nbwss'), ['daemon', '--log-stderr'], {
      cwd: elsewhere,
      env: { ...baseEnv(), HOME: elsewhere, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        let text = '';
        daemon.stderr!.setEncoding('utf8').on('data', (d: string) => {
          text += d;
          if (text.includes('"msg":"connected"')) resolve();
        });
        daemon.on('close', (code) => reject(new Error(`the installed daemon exited ${code}: ${text}`)));
      });
      const status = await nbwss(['status', '--json'], env);
      expect(JSON.parse(status.stdout)).toMatchObject({ running: true, pid: daemon.pid, groups: [{ groupId: 'g1', connected: 'installed.test' }] });
    } finally {
      daemon.kill('SIGTERM');
      await new Promise((r) => daemon.once('close', r));
    }
  });

  it('installs nbwss(1) where man finds it, naming every command', async () => {
    const page = join(prefix, 'share', 'man', 'man1', 'nbwss.1');
    const { stdout } = await exec('man', ['-l', page], { env: { ...process.env, MANWIDTH: '100', MAN_KEEP_FORMATTING: '' } });
    const text = stdout.replace(/.\x08/g, '');
    const help = await nbwss(['--help']);
    const commands = [...help.stdout.matchAll(/^ {2}([a-z]+)(?:\|[a-z]+)? /gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    expect(commands.length).toBeGreaterThan(15);
    for (const c of commands) expect(text, c).toMatch(new RegExp(`^ {3}nbwss ${c}\\b`, 'm'));
    expect(text).toContain('EXIT STATUS');
    // EXAMPLES, every property with its default, every environment variable, and where the README is.
    expect(text).toMatch(/^EXAMPLES\n {7}nbwss add --file endpoint\.json/m);
    for (const key of PROPERTY_KEYS) expect(text, key).toMatch(new RegExp(`^ {7}${key.replace('.', '\\.')}\n`, 'm'));
    for (const [name] of ENVIRONMENT) expect(text, name).toMatch(new RegExp(`^ {7}${name}\n`, 'm'));
    expect(text).toContain('/usr/share/doc/nbwss/README.md');
    // man finds it by name through the prefix's man directory.
    const byName = await exec('man', ['-w', 'nbwss'], { env: { ...process.env, MANPATH: join(prefix, 'share', 'man') } });
    expect(realpathSync(byName.stdout.trim())).toBe(realpathSync(page));
  });

  it('ships the completion scripts beside the executable', () => {
    const dir = join(prefix, 'lib', 'node_modules', 'nbwss', 'completions');
    expect(readdirSync(dir).sort()).toEqual(['_nbwss', 'nbwss.bash', 'nbwss.fish']);
  });
});
