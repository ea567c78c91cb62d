import { describe, expect, it } from 'vitest';
import { canonicalHost } from '../../src/core/endpoint/host.js';
import { GUIDE } from '../../src/core/errors.js';
import { maskUrl, parseWssUrl, urlHost } from '../../src/core/endpoint/url.js';
import { rejection } from '../helpers/rejection.js';

// The one identity of a host (src/core/endpoint/host.ts) and the url rules (url.ts), case by case: the store key,
// the secret store's account and every comparison depend on them. Which names are valid hosts: test/core/units.test.ts.

describe('canonicalHost', () => {
  it.each([
    ['  CloudHost7.Nebula.com.  ', 'cloudhost7.nebula.com'],
    ['10.0.0.1', '10.0.0.1'],
    [' 10.0.0.1 ', '10.0.0.1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['FE80::1%ETH0', 'fe80::1%eth0'],
    ['BÜCHER.example', 'xn--bcher-kva.example'],
    ['bücher.example.', 'xn--bcher-kva.example'],
    ['a\uff0eb.example', 'a.b.example'],
    ['under_score.Example', 'under_score.example'],
    ['-\u0000-', '-\u0000-'],
  ])('%j is %j', (raw, canonical) => {
    expect(canonicalHost(raw)).toBe(canonical);
  });
});

describe('url rules', () => {
  it('an IPv6 host comes without its brackets', () => {
    expect(urlHost(new URL('wss://[2001:db8::1]:8443/x'))).toBe('2001:db8::1');
    expect(urlHost(new URL('wss://cloud.example/x'))).toBe('cloud.example');
  });

  it('user information is masked, also behind a space the URL parser forgives; the path is kept', () => {
    expect(maskUrl('wss://user:secret@cloud.example/x')).toBe('wss://<redacted>@cloud.example/x');
    expect(maskUrl(' wss://user:secret@cloud.example/x')).toBe(' wss://<redacted>@cloud.example/x');
    expect(maskUrl('wss://cloud.example/a@b')).toBe('wss://cloud.example/a@b');
  });

  it('a url with user:password@ is refused without showing them, even given with a space before it', () => {
    for (const raw of ['wss://user:secret@cloud.example/x', ' wss://user:secret@cloud.example/x']) {
      const refused = rejection(() => parseWssUrl(raw));
      expect(refused.code).toBe('INVALID_DETAILS');
      expect(refused.message).toBe(GUIDE.malformedUrl(maskUrl(raw)));
      expect(`${refused.message} ${refused.hint}`).not.toContain('secret');
      expect(refused.hint).toMatch(/^The url must not contain user:password@\. Specify the url as wss:\/\/HOST/);
    }
  });
});
