import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDetails } from '../../src/core/endpoint/details.js';
import { NbwssError } from '../../src/core/errors.js';
import { hasStackTrace, newHome, runCli } from '../helpers/cli.js';
import { runInProcess } from '../helpers/io.js';
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

  it("through the CLI's main (in-process): every file exits 3 with the guide's words, no stack trace, and nothing is written", async () => {
    const home = newHome();
    const bad: string[] = [];
    for (const f of files) {
      const r = await runInProcess(['add', '--file', join(DIR, f), '--yes'], home.env);
      if (r.code !== 3 || !r.stderr.includes('Error: JSON contents not valid') || hasStackTrace(r.stderr) || r.stdout !== '')
        bad.push(`${f}: exit ${r.code}: ${r.stderr}`);
    }
    expect(bad).toEqual([]);
    // Validation happens before the store is opened: no store was created.
    expect(existsSync(home.dir)).toBe(false);
  });

  // What only a process shows (the exit code the shell sees, nothing thrown past main), for one file of each kind:
  // not JSON, not UTF-8, JSON that is not an object, an object that is not a set of details, one either way (UTF-16).
  it.each([
    'n_structure_unclosed_array.json',
    'n_structure_lone-invalid-utf-8.json',
    'y_structure_lonely_int.json',
    'y_object_basic.json',
    'i_string_UTF-16LE_with_BOM.json',
  ])('through the real CLI: %s exits 3 without a stack trace, and nothing is written', async (f) => {
    const home = newHome();
    const r = await runCli(['add', '--file', join(DIR, f), '--yes'], home.env);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain('Error: JSON contents not valid');
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect(r.stdout).toBe('');
    expect(existsSync(home.dir)).toBe(false);
  });
});
