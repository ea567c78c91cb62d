import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDetails } from '../../src/core/endpoint/details.js';
import { NbwssError } from '../../src/core/errors.js';
import { hasStackTrace, newHome, runCli } from '../helpers/cli.js';
import { cleanupTempDirs } from '../helpers/tmp.js';

// JSONTestSuite (test/fixtures/JSONTestSuite, MIT): y_ must parse, n_ must be rejected, i_ either.
// None is a valid set of endpoint details, so every file must be refused,
// cleanly: n_ ones as invalid JSON (or invalid UTF-8), the rest by validation.
const DIR = fileURLToPath(new URL('../fixtures/JSONTestSuite/test_parsing', import.meta.url));
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

afterAll(cleanupTempDirs);

describe('the details loader over JSONTestSuite', () => {
  it('finds the corpus (318 files)', () => {
    expect(files).toHaveLength(318);
  });

  it.each(files)('%s is refused with a clear message', (f) => {
    const bytes = readFileSync(join(DIR, f));
    let error: unknown;
    try {
      parseDetails(bytes);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NbwssError);
    const e = error as NbwssError;
    expect(e.code).toBe('INVALID_DETAILS');
    expect(e.message).toMatch(/^JSON contents not valid: /);
    if (f.startsWith('n_')) expect(e.message).toMatch(/^JSON contents not valid: (not valid JSON: .+ at line \d+, column \d+|the details are not valid UTF-8)/);
    if (f.startsWith('y_')) expect(e.message).not.toMatch(/not valid JSON|not valid UTF-8/);
  });

  it('through the real CLI: every file exits 3 without a stack trace, and nothing is written', async () => {
    const home = newHome();
    const queue = [...files];
    const bad: string[] = [];
    const worker = async () => {
      for (let f = queue.shift(); f !== undefined; f = queue.shift()) {
        const r = await runCli(['add', '--file', join(DIR, f), '--yes'], home.env);
        if (r.code !== 3 || !r.stderr.includes('Error: JSON contents not valid') || hasStackTrace(r.stderr) || r.stdout !== '')
          bad.push(`${f}: exit ${r.code}: ${r.stderr}`);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    expect(bad).toEqual([]);
    // Validation happens before the store is opened: no store was created.
    expect(existsSync(home.dir)).toBe(false);
  }, 240_000);
});
