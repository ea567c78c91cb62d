import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_DETAILS_BYTES } from '../../src/core/endpoint/details.js';
import { readDetailsFile, readDetailsStream } from '../../src/core/endpoint/source.js';
import { rejection } from '../helpers/rejection.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

// Reading the endpoint details (--file PATH, --file - for stdin) from real files, a device and a stream: what is
// refused, in the words the CLI shows (test/e2e/add.test.ts shows them through the CLI), and the warning for a
// details file others can read (it holds a token).

afterAll(cleanupTempDirs);

const TOO_BIG_HINT = 'Endpoint details are a few hundred bytes; check that this is the right file.';

describe('readDetailsFile', () => {
  it('reads the bytes of a private file, without a warning', () => {
    const path = join(tempDir(), 'details.json');
    writeFileSync(path, '{"a":1}', { mode: 0o600 });
    expect(readDetailsFile(path)).toEqual({ bytes: Buffer.from('{"a":1}'), warnings: [] });
  });

  it('a file its group or other users can read: read, with a warning that says how to restrict it', () => {
    const path = join(tempDir(), 'details.json');
    writeFileSync(path, '{}');
    chmodSync(path, 0o640);
    expect(readDetailsFile(path).warnings).toEqual([
      `${path} is readable by its group and holds a token; restrict it with: chmod 600 ${path} (or delete it once the endpoint is added)`,
    ]);
    chmodSync(path, 0o604);
    expect(readDetailsFile(path).warnings).toEqual([
      `${path} is readable by other users and holds a token; restrict it with: chmod 600 ${path} (or delete it once the endpoint is added)`,
    ]);
  });

  it('no such file, a directory, a path through a file: named, with where to look', () => {
    const dir = tempDir();
    const hint = 'Check the path given to --file.';
    expect(rejection(() => readDetailsFile(join(dir, 'none.json')))).toEqual({
      code: 'USAGE',
      message: `Cannot read the endpoint details file ${join(dir, 'none.json')}: no such file`,
      hint,
    });
    mkdirSync(join(dir, 'sub'));
    expect(rejection(() => readDetailsFile(join(dir, 'sub')))).toEqual({
      code: 'USAGE',
      message: `Cannot read the endpoint details file ${join(dir, 'sub')}: it is a directory`,
      hint,
    });
    writeFileSync(join(dir, 'plain'), 'x');
    const through = join(dir, 'plain', 'details.json');
    expect(rejection(() => readDetailsFile(through))).toEqual({
      code: 'USAGE',
      message: `Cannot read the endpoint details file ${through}: ENOTDIR: not a directory, open '${through}'`,
      hint,
    });
  });

  it('a file over 1 MiB is refused from its size; one of exactly 1 MiB is read', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'big.json'), Buffer.alloc(MAX_DETAILS_BYTES + 1, 32), { mode: 0o600 });
    expect(rejection(() => readDetailsFile(join(dir, 'big.json')))).toEqual({
      code: 'INVALID_DETAILS',
      message: `JSON contents not valid: the details are larger than 1 MiB (${MAX_DETAILS_BYTES + 1} bytes)`,
      hint: TOO_BIG_HINT,
    });
    writeFileSync(join(dir, 'limit.json'), Buffer.alloc(MAX_DETAILS_BYTES, 32), { mode: 0o600 });
    expect(readDetailsFile(join(dir, 'limit.json')).bytes).toHaveLength(MAX_DETAILS_BYTES);
  });

  it('a device that never ends (/dev/zero) is read no further than the limit', () => {
    expect(rejection(() => readDetailsFile('/dev/zero'))).toEqual({
      code: 'INVALID_DETAILS',
      message: 'JSON contents not valid: the details are larger than 1 MiB (more than 1048576 bytes)',
      hint: TOO_BIG_HINT,
    });
  });
});

describe('readDetailsStream (stdin)', () => {
  it('reads text and bytes alike', async () => {
    const stream = new PassThrough();
    stream.end('{"a":');
    expect((await readDetailsStream(stream)).bytes.toString()).toBe('{"a":');
    const text = PassThrough.from(['{"b"', ':2}']);
    expect(await readDetailsStream(text)).toEqual({ bytes: Buffer.from('{"b":2}'), warnings: [] });
  });

  it('more than 1 MiB is refused, and the stream is not read further', async () => {
    const stream = new PassThrough();
    stream.write(Buffer.alloc(MAX_DETAILS_BYTES, 32));
    stream.write(Buffer.alloc(10, 32));
    const refused = readDetailsStream(stream);
    await expect(refused).rejects.toMatchObject({
      code: 'INVALID_DETAILS',
      message: 'JSON contents not valid: the details are larger than 1 MiB (more than 1048576 bytes)',
      hint: TOO_BIG_HINT,
    });
    expect(stream.destroyed).toBe(true);
  });
});
