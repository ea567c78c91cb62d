import { describe, expect, it } from 'vitest';
import { GUIDE } from '../../src/core/errors.js';
import { maskUrl, parseWssUrl, urlHost } from '../../src/core/endpoint/url.js';
import { rejection } from '../helpers/rejection.js';

// The url rules (src/core/endpoint/url.ts), case by case. The one identity of a host (host.ts, canonicalHost):
// test/core/hardening-units.test.ts; which names are valid hosts: test/core/units.test.ts.

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
