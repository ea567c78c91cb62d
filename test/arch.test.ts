import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { unexplainedOneLetterNames } from './helpers/one-letter-names.js';

const SRC = fileURLToPath(new URL('../src', import.meta.url));
const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
const imports = (p: string) => [...readFileSync(p, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1]!);

describe('the core knows nothing of the terminal', () => {
  const core = files(join(SRC, 'core'));
  it('has files to check', () => expect(core.length).toBeGreaterThan(5));
  it.each(core.map((p) => [p.slice(SRC.length + 1), p]))('%s imports no CLI library and never exits or prints', (_n, p) => {
    for (const spec of imports(p)) {
      expect(spec).not.toMatch(/^(commander|@inquirer\/|chalk|cli-table3|ora)/);
      expect(spec).not.toMatch(/\/cli\//);
    }
    const text = readFileSync(p, 'utf8');
    expect(text).not.toMatch(/process\.exit|console\.(log|error|warn)|process\.std(out|err)/);
  });
});

describe('one exit boundary', () => {
  it('only src/cli/main.ts sets the exit code in the CLI and the core', () => {
    const setters = [...files(join(SRC, 'core')), ...files(join(SRC, 'cli'))].filter((p) => /process\.exit(Code)?\b/.test(readFileSync(p, 'utf8')));
    expect(setters.map((p) => p.slice(SRC.length + 1))).toEqual(['cli/main.ts']);
  });
});

describe('the daemon is a second front end on the core', () => {
  it.each(files(join(SRC, 'daemon')).map((p) => [p.slice(SRC.length + 1), p]))('%s imports nothing of the CLI', (_n, p) => {
    for (const spec of imports(p)) {
      expect(spec).not.toMatch(/\/cli\//);
      expect(spec).not.toMatch(/^(commander|@inquirer\/|chalk|cli-table3)/);
    }
  });
});

describe('heavy packages load when they are used, not at every start', () => {
  // Measured on an idle daemon's start (~350 ms of CPU): undici ~120 ms, prom-client ~50 ms, for a daemon that may
  // never call the REST service or serve /metrics.
  const all = files(SRC);
  /** The modules a file imports as values at load time (not `import type`, not `import()`). */
  const loadsAtStart = (p: string) => [...readFileSync(p, 'utf8').matchAll(/^import (?!type )[^;]*?from '([^']+)'/gm)].map((m) => m[1]!);
  const importersOf = (spec: RegExp) => all.filter((p) => loadsAtStart(p).some((s) => spec.test(s))).map((p) => p.slice(SRC.length + 1));
  it('undici only in the details fetch (loaded by import() for --url); the REST client requires it on its first call', () => {
    expect(importersOf(/^undici$/)).toEqual(['core/endpoint/remote.ts']);
  });
  it('prom-client only in daemon/metrics.ts, which the rest imports as a type or with import()', () => {
    expect(importersOf(/^prom-client$/)).toEqual(['daemon/metrics.ts']);
    expect(importersOf(/\/metrics\.js$/)).toEqual([]);
  });
});

describe('names that explain themselves', () => {
  it('finds a one-letter name outside a tiny lambda, a loop, a catch or a comparator', () => {
    const text = [
      'function run(o: Options) { return o.home; }',
      'const n = count();',
      'const ok = xs.map((x) => x + 1);',
      'for (const [k, v] of pairs) use(k, v);',
      'for (let i = 0; i < 3; i++) use(i);',
      'try { go(); } catch (e) { use(e); }',
      'xs.sort((a, b) => a - b);',
      'function byAge(a: P, b: P) {',
      '  return a.age - b.age;',
      '}',
      'xs.forEach((x) => {',
      '  use(x);',
      '  use(x);',
      '  use(x);',
      '});',
      'class C { constructor(private readonly s: Store) {} }',
      'const { d } = parts;',
    ].join('\n');
    expect(unexplainedOneLetterNames('x.ts', text)).toEqual(['1:o', '2:n', '11:x', '16:s', '17:d']);
  });

  // One-letter names only for tiny lambdas and loop indices (the review of main 36e4293 counted 30 % of them).
  // W is the guide's words (src/core/hints.ts), used as W.check in a hundred messages.
  const allowed = new Set(['W']);
  it.each(files(SRC).map((p) => [p.slice(SRC.length + 1), p]))('%s', (_n, p) => {
    expect(unexplainedOneLetterNames(p, readFileSync(p, 'utf8'), allowed)).toEqual([]);
  });
});
