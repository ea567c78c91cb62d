import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { newHome } from '../helpers/cli.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
afterAll(cleanupTempDirs);

/** A copy of the built CLI whose code cache is replaced by `cache` (or removed), with the given mtime. */
function copyWithCache(cache: Buffer | undefined, mtime = new Date(Date.now() + 60_000)): string {
  const dir = tempDir('nbwss-copy-');
  mkdirSync(join(dir, 'bin'));
  cpSync(join(ROOT, 'bin/nbwss.cjs'), join(dir, 'bin/nbwss.cjs'));
  cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true, filter: (src) => !src.endsWith('.cache') });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  if (cache) {
    writeFileSync(join(dir, 'dist/cli.cjs.cache'), cache);
    utimesSync(join(dir, 'dist/cli.cjs.cache'), mtime, mtime);
  }
  return join(dir, 'bin/nbwss.cjs');
}

const builtCache = () => readFileSync(join(ROOT, 'dist/cli.cjs.cache'));
/** The cache's first line: the build id it was made for. */
const header = (b: Buffer) => b.subarray(0, b.indexOf(0x0a) + 1);

function listWithCacheReport(bin: string) {
  const h = newHome();
  return spawnSync(process.execPath, [bin, 'list', '--json'], { env: { PATH: process.env.PATH, ...h.env, NBWSS_DEBUG_CODE_CACHE: '1' }, encoding: 'utf8' });
}

describe("the bundle's code cache is only an accelerator", () => {
  it('the bundle loads packages with require(), never import() (a script compiled from a code cache cannot import())', () => {
    const bundle = readFileSync(join(ROOT, 'dist/cli.cjs'), 'utf8');
    expect(bundle.match(/\bimport\(["'`]/g) ?? []).toEqual([]);
  });

  it('the cache is judged by content: one older than the bundle (npm does not keep mtimes) is accepted', () => {
    const r = listWithCacheReport(copyWithCache(builtCache(), new Date(2000, 0, 1)));
    expect(r.stderr).toBe('nbwss: code cache accepted\n');
    expect(r.stdout).toBe('[]\n');
  });

  it('a cache made for another bundle is not used, whatever its mtime', () => {
    const other = Buffer.concat([Buffer.from('//# nbwss-build=00000000000000000000000000000000\n'), builtCache().subarray(header(builtCache()).length)]);
    const r = listWithCacheReport(copyWithCache(other));
    expect(r.stderr).toBe('nbwss: code cache absent\n');
    expect(r.status).toBe(0);
  });

  it.each([
    ['no cache', undefined, 'absent'],
    ['a damaged cache', Buffer.from('not a V8 code cache at all'), 'absent'],
    [
      'a damaged cache for this bundle',
      Buffer.concat([header(readFileSync(join(ROOT, 'dist/cli.cjs.cache'))), Buffer.from('not a V8 code cache at all')]),
      'rejected',
    ],
  ])('with %s the CLI works the same', (_what, cache, report) => {
    const bin = copyWithCache(cache);
    const r = listWithCacheReport(bin);
    expect(r.stderr).toBe(`nbwss: code cache ${report}\n`);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('[]\n');
    const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(help.stdout).toContain('Exit codes:');
  });
});
