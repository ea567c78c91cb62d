import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './tmp.js';

const run = promisify(execFile);

interface LockEntry {
  name?: string;
  version: string;
  dev?: boolean;
  optional?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, unknown>;
  bin?: Record<string, string>;
  engines?: Record<string, string>;
  os?: string[];
  cpu?: string[];
  libc?: string[];
  hasInstallScript?: boolean;
}

export interface LocalRegistry {
  url: string;
  /** Environment for npm: this registry, and better-sqlite3's prebuilt addon from it (no compiler run, no traffic off loopback). */
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

/**
 * A stand-in for the npm registry on 127.0.0.1, serving exactly the
 * production dependencies of package-lock.json: packuments made from the
 * lock, tarballs taken from npm's own cache (`npm ci` put them there), and
 * better-sqlite3's addon as the prebuilt archive prebuild-install asks for,
 * made from the one this checkout compiled. So a test can `npm install -g`
 * the packed nbwss like a user, with no traffic off this machine.
 */
export async function startLocalRegistry(root: string): Promise<LocalRegistry> {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const dir = tempDir('nbwss-registry-');
  const versions = new Map<string, Map<string, LockEntry>>();
  const fetchable: { name: string; version: string }[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!path || entry.dev) continue;
    const name = entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    if (!versions.has(name)) versions.set(name, new Map());
    versions.get(name)!.set(entry.version, entry);
    // Platform packages of other machines are listed (npm skips them by os/cpu) but never fetched.
    if (existsSync(join(root, path))) fetchable.push({ name, version: entry.version });
  }
  // One npm run takes every tarball out of npm's cache (offline: it fails rather than download).
  const specs = [...new Set(fetchable.map(({ name, version }) => `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${version}.tgz`))];
  const { stdout } = await run('npm', ['pack', '--offline', '--json', '--pack-destination', dir, ...specs], { cwd: dir, maxBuffer: 64 * 1024 * 1024 });
  const packed = JSON.parse(stdout) as { name: string; version: string; filename: string }[];
  const tarballs = new Map<string, string>(); // "name@version" -> file
  for (const p of packed) tarballs.set(`${p.name}@${p.version}`, join(dir, p.filename));

  const sqlite = join(root, 'node_modules/better-sqlite3');
  const prebuilt = join(dir, 'better-sqlite3-prebuilt.tar.gz');
  await run('tar', ['-czf', prebuilt, '-C', sqlite, 'build/Release/better_sqlite3.node']);

  let base = '';
  const packument = (name: string) => {
    const vs = versions.get(name)!;
    const doc: Record<string, unknown> = {};
    for (const [version, e] of vs) {
      const file = tarballs.get(`${name}@${version}`);
      const integrity = file ? `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}` : undefined;
      doc[version] = {
        name,
        version,
        dependencies: e.dependencies,
        optionalDependencies: e.optionalDependencies,
        peerDependencies: e.peerDependencies,
        peerDependenciesMeta: e.peerDependenciesMeta,
        bin: e.bin,
        engines: e.engines,
        os: e.os,
        cpu: e.cpu,
        libc: e.libc,
        hasInstallScript: e.hasInstallScript,
        dist: { tarball: `${base}/-/tarball/${encodeURIComponent(`${name}@${version}`)}`, ...(integrity ? { integrity } : {}) },
      };
    }
    const latest = [...vs.keys()].pop()!;
    return { name, 'dist-tags': { latest }, versions: doc };
  };

  const server: Server = createServer((req, res) => {
    const url = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    if (url.startsWith('/-/tarball/')) {
      const file = tarballs.get(url.slice('/-/tarball/'.length));
      if (!file) return void res.writeHead(404).end();
      return void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(readFileSync(file));
    }
    if (url.startsWith('/-/prebuilds/') && url.endsWith('.tar.gz')) return void res.writeHead(200).end(readFileSync(prebuilt));
    const name = url.slice(1);
    if (!versions.has(name)) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(packument(name)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    env: {
      npm_config_registry: `${base}/`,
      npm_config_better_sqlite3_binary_host: `${base}/-/prebuilds`,
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
