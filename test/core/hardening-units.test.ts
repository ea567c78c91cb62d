import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalHost, isValidHostName, sameHost } from '../../src/core/endpoint/host.js';
import { maskUrl } from '../../src/core/endpoint/url.js';
import { safeCells, safeJson, safeText } from '../../src/core/text.js';
import { certificateWeaknesses } from '../../src/core/tls/fetch.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

afterAll(cleanupTempDirs);

describe('canonicalHost: one identity per host', () => {
  it.each([
    ['cloudhost7.nebula.com.', 'cloudhost7.nebula.com'],
    ['CloudHost7.Nebula.COM', 'cloudhost7.nebula.com'],
    ['Bücher.Example.', 'xn--bcher-kva.example'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['127.0.0.1', '127.0.0.1'],
    ['  CloudHost7.Nebula.com.  ', 'cloudhost7.nebula.com'],
    [' 10.0.0.1 ', '10.0.0.1'],
    ['FE80::1%ETH0', 'fe80::1%eth0'],
    ['bücher.example.', 'xn--bcher-kva.example'],
    ['a\uff0eb.example', 'a.b.example'],
    ['under_score.Example', 'under_score.example'],
    ['-\u0000-', '-\u0000-'],
  ])('%j -> %j', (raw, canonical) => {
    expect(canonicalHost(raw)).toBe(canonical);
    expect(canonicalHost(canonical)).toBe(canonical); // idempotent
    expect(sameHost(raw, canonical)).toBe(true);
  });

  it('names with bidi or zero-width characters are not host names', () => {
    expect(isValidHostName('a\u202eb.test')).toBe(false);
    expect(isValidHostName('a\u200b.test')).toBe(false);
    expect(isValidHostName('bücher.example')).toBe(true);
    expect(isValidHostName('-bad.example')).toBe(false);
  });
});

describe('safeText: text from outside, safe to show', () => {
  it('escapes C0, DEL, C1, bidi, zero-width and separators; leaves the rest', () => {
    expect(safeText('a\u001b]0;t\u0007b')).toBe('a\\u001b]0;t\\u0007b');
    expect(safeText('x\u009b31my')).toBe('x\\u009b31my');
    expect(safeText('\u202egnp.exe')).toBe('\\u202egnp.exe');
    expect(safeText('a\u200bb\u2028c\ufeff')).toBe('a\\u200bb\\u2028c\\ufeff');
    expect(safeText('line\nbreak\ttab\u007f')).toBe('line\\u000abreak\\u0009tab\\u007f');
    expect(safeText('Bücher 日本 ok')).toBe('Bücher 日本 ok');
  });

  it('safeCells escapes every cell of a table when any holds something unsafe (also twice in a row: no regex state kept)', () => {
    const clean = [
      ['a', 'b'],
      ['c', 'd'],
    ];
    expect(safeCells(clean)).toEqual(clean);
    for (let i = 0; i < 2; i++) {
      expect(
        safeCells([
          ['ok', 'x\u001b[31m'],
          ['\u202ey', 'z'],
        ]),
      ).toEqual([
        ['ok', 'x\\u001b[31m'],
        ['\\u202ey', 'z'],
      ]);
      expect(safeCells([['a'], ['b\nc']])).toEqual([['a'], ['b\\u000ac']]);
    }
  });

  it('safeJson is lossless: a JSON reader gets the same strings back', () => {
    const v = { s: 'a\u009bb\u202ec\u001bd\n' };
    const text = safeJson(v);
    expect(text).not.toMatch(/[\u0080-\u009f\u202e\u001b]/);
    expect(JSON.parse(text)).toEqual(v);
  });

  it('maskUrl hides the query, the fragment and user:password@, and escapes what is left', () => {
    expect(maskUrl('wss://u:p@h/x?otp=1')).toBe('wss://<redacted>@h/x?<redacted>');
    expect(maskUrl('https://h/a#frag')).toBe('https://h/a#<redacted>');
    expect(maskUrl('wss://h/\u202ex')).toBe('wss://h/\\u202ex');
    expect(maskUrl('wss://h/p@q')).toBe('wss://h/p@q');
  });
});

describe('certificateWeaknesses', () => {
  function rsaCert(bits: number): string {
    const dir = tempDir('nbwss-rsa-');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', `rsa:${bits}`, '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '30', '-subj', '/CN=weak'],
      { stdio: 'ignore' },
    );
    return readFileSync(join(dir, 'c.pem'), 'utf8');
  }

  it('names an RSA key under 2048 bits, and an expired or not-yet-valid certificate', () => {
    const weak = rsaCert(1024);
    expect(certificateWeaknesses(weak)).toEqual(['its RSA key has only 1024 bits (2048 is the least considered safe)']);
    expect(certificateWeaknesses(rsaCert(2048))).toEqual([]);
    const later = new Date(Date.now() + 90 * 86_400_000);
    expect(certificateWeaknesses(weak, later)[0]).toMatch(/^it expired on /);
    const earlier = new Date(Date.now() - 86_400_000);
    expect(certificateWeaknesses(weak, earlier)[0]).toMatch(/^it is not valid before /);
  });
});
