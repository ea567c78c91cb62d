import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { newHome } from '../helpers/cli.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
afterAll(cleanupTempDirs);

/** A copy of the built CLI whose code cache is replaced by `cache` (or removed). */
function copyWithCache(cache: Buffer | undefined): string {
  const dir = tempDir('nbwss-copy-');
  mkdirSync(join(dir, 'bin'));
  cpSync(join(ROOT, 'bin/nbwss.cjs'), join(dir, 'bin/nbwss.cjs'));
  cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true, filter: (src) => !src.endsWith('.cache') });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  if (cache) {
    writeFileSync(join(dir, 'dist/cli.cjs.cache'), cache);
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(dir, 'dist/cli.cjs.cache'), later, later);
  }
  return join(dir, 'bin/nbwss.cjs');
}

describe("the bundle's code cache is only an accelerator", () => {
  it('the bundle loads packages with require(), never import() (a script compiled from a code cache cannot import())', () => {
    const bundle = readFileSync(join(ROOT, 'dist/cli.cjs'), 'utf8');
    expect(bundle.match(/\bimport\(["'`]/g) ?? []).toEqual([]);
  });

  it.each([
    ['no cache', undefined],
    ['a damaged cache', Buffer.from('not a V8 code cache at all')],
  ])('with %s the CLI works the same', (_what, cache) => {
    const bin = copyWithCache(cache);
    const h = newHome();
    const r = spawnSync(process.execPath, [bin, 'list', '--json'], { env: { PATH: process.env.PATH, ...h.env }, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('[]\n');
    const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(help.stdout).toContain('Exit codes:');
  });
});
