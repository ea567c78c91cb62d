import { describe, expect, it } from 'vitest';
import { parseJson } from '../../src/core/endpoint/json.js';
import { isValidHostName, maskUrl, sameHost } from '../../src/core/endpoint/url.js';
import { chooseBackend } from '../../src/core/secrets/index.js';
import { decodeMessage, connectRequest } from '../../src/core/nbwss-message.js';
import { parseValue } from '../../src/core/config/properties.js';
import { mapLimit } from '../../src/core/services/certs.js';
import { formatHex, parseFingerprint } from '../../src/core/tls/fingerprint.js';
import { plainTable } from '../../src/cli/output/table.js';
import { wantsColor } from '../../src/cli/io.js';
import { NbwssError } from '../../src/core/errors.js';

/** A small seeded PRNG (mulberry32), so a failing property names its seed. */
function rng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomJson(r: () => number, depth = 0): unknown {
  const k = Math.floor(r() * (depth > 3 ? 4 : 6));
  const str = () =>
    Array.from({ length: Math.floor(r() * 8) }, () =>
      String.fromCharCode(r() < 0.1 ? Math.floor(r() * 0x20) : r() < 0.2 ? 0x4e00 + Math.floor(r() * 100) : 0x20 + Math.floor(r() * 0x5e)),
    ).join('');
  switch (k) {
    case 0:
      return r() < 0.5 ? null : r() < 0.5;
    case 1:
      return r() < 0.5 ? Math.floor((r() - 0.5) * 1e6) : (r() - 0.5) * 10 ** Math.floor(r() * 20 - 10);
    case 2:
      return str();
    case 3:
      return str();
    case 4:
      return Array.from({ length: Math.floor(r() * 4) }, () => randomJson(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(r() * 4); i > 0; i--) o[`${str()}${i}`] = randomJson(r, depth + 1);
      return o;
    }
  }
}

describe('parseJson: property, against JSON.parse', () => {
  it('agrees with JSON.parse on 2,000 random documents, with random whitespace', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const r = rng(seed);
      const v = randomJson(r);
      const text = JSON.stringify(v, null, r() < 0.5 ? undefined : Math.floor(r() * 4));
      expect(parseJson(text), `seed ${seed}: ${text}`).toEqual(JSON.parse(text));
    }
  });

  it('refuses (never crashes on) every random truncation of a document', () => {
    for (let seed = 1; seed <= 500; seed++) {
      const r = rng(seed);
      const text = JSON.stringify({ a: randomJson(r), b: [1, 2, { c: 'x' }] });
      const cut = text.slice(0, Math.floor(r() * (text.length - 1)));
      let ok = false;
      try {
        JSON.parse(cut);
        ok = true;
      } catch {
        /* invalid, as expected mostly */
      }
      if (ok) expect(parseJson(cut)).toEqual(JSON.parse(cut));
      else expect(() => parseJson(cut), `seed ${seed}: ${cut}`).toThrow(/at line \d+, column \d+/);
    }
  });
});

describe('fingerprints: property', () => {
  it('every form of a random digest parses back to the same canonical fingerprint', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed);
      const bytes = Buffer.from(Array.from({ length: 32 }, () => Math.floor(r() * 256)));
      const canonical = formatHex(bytes);
      for (const form of [canonical, canonical.toLowerCase(), bytes.toString('hex'), `SHA256:${bytes.toString('base64').replace(/=+$/, '')}`]) {
        expect(parseFingerprint(form), form).toBe(canonical);
      }
    }
  });
});

describe('small pieces', () => {
  it('maskUrl hides query strings and fragments, and nothing else', () => {
    expect(maskUrl('https://h/p?otp=1&x=2')).toBe('https://h/p?<redacted>');
    expect(maskUrl('wss://h/p#frag')).toBe('wss://h/p#<redacted>');
    expect(maskUrl('wss://h:8443/p')).toBe('wss://h:8443/p');
  });

  it.each([
    ['cloudhost7.nebula.com', true],
    ['a', true],
    ['xn--bcher-kva.example', true],
    ['host.', true],
    ['10.0.0.1', true],
    ['::1', true],
    ['fe80::1%eth0', true], // an IPv6 address with a zone is an address (URLs cannot carry the zone: the url check decides)
    ['under_score.example', false],
    ['-a.example', false],
    ['a-.example', false],
    ['a..b', false],
    [`${'a'.repeat(64)}.example`, false],
    [`${'a.'.repeat(127)}a`, false],
    ['999.1.1.1', false],
    ['bücher.example', true],
    ['a'.repeat(63), true],
    [`${'a.'.repeat(126)}a`, true], // 253 characters
    [`${'a.'.repeat(126)}ab`, false], // 254 characters
    ['a'.repeat(64), false],
    [' cloud.example.com', false],
    ['cloud.example.com ', false],
    ['a\u200b.example', false],
    ['', false],
    ['1.2.3', false],
    ['123', false],
    ['1a.2.3', true],
  ])('isValidHostName(%j) is %s', (h, ok) => {
    expect(isValidHostName(h)).toBe(ok);
  });

  it('sameHost ignores case and a trailing dot', () => {
    expect(sameHost('Host.Example.', 'host.example')).toBe(true);
    expect(sameHost('a.example', 'b.example')).toBe(false);
  });

  it('chooseBackend: the recorded choice wins; a contradicting request is refused; keychain by default', () => {
    expect(chooseBackend(undefined, undefined)).toBe('keychain');
    expect(chooseBackend(undefined, { value: 'file', source: '--secret-store' })).toBe('file');
    expect(chooseBackend('file', undefined)).toBe('file');
    expect(() => chooseBackend('keychain', { value: 'file', source: 'NBWSS_SECRET_STORE' })).toThrow(NbwssError);
  });

  it("decodeMessage accepts the guide's examples and names what is wrong with others", () => {
    const req = connectRequest('t', new Date(1444944181000));
    expect(req).toMatchObject({ version: '1.0', type: 'CONNECT', subType: 'REQUEST', timeStamp: 1444944181, payload: { token: 't' } });
    expect(decodeMessage(JSON.stringify(req)).ok).toBe(true);
    expect(decodeMessage(JSON.stringify({ version: '1.0', id: 'x', type: 'NOTIFICATION', subType: 'REQUEST', timeStamp: 1, payload: [] })).ok).toBe(true);
    const why = (o: unknown) => {
      const d = decodeMessage(typeof o === 'string' ? o : JSON.stringify(o));
      return d.ok ? 'ok' : d.reason;
    };
    expect(why('[')).toBe('not JSON');
    expect(why([])).toBe('not a JSON object');
    expect(why({ version: '1.0', type: 'CONNECT', subType: 'RESPONSE', payload: {} })).toBe('missing id');
    expect(why({ version: '1.0', id: 'x', type: 'PING', subType: 'RESPONSE', payload: {} })).toBe('unknown type "PING"');
    expect(why({ version: '1.0', id: 'x', type: 'CONNECT', subType: 'ASK', payload: {} })).toBe('unknown subType "ASK"');
    expect(why({ version: '1.0', id: 'x', type: 'COMMAND', subType: 'REQUEST', payload: [] })).toBe('payload of a COMMAND message must be an object');
    expect(why({ version: '1.0', id: 'x', type: 'NOTIFICATION', subType: 'RESPONSE', payload: {} })).toBe('payload of a NOTIFICATION message must be an array');
  });

  it('parseValue checks type and range per property', () => {
    expect(parseValue('exception.ignoreDecoder', 'TRUE')).toBe(true);
    expect(parseValue('connectionInfo.period', ' 30 ')).toBe(30);
    expect(() => parseValue('connectionInfo.period', '86401')).toThrow(/from 1 to 86400/);
    expect(() => parseValue('scheduledExecutor.threadPoolSize', '1.5')).toThrow(/whole number/);
  });

  it('mapLimit keeps order and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3, 0, 6], 3, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setImmediate(r));
      running--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0, 60]);
    expect(peak).toBe(3);
  });

  it('plainTable aligns columns without trailing spaces', () => {
    expect(
      plainTable(
        ['A', 'Bee'],
        [
          ['xx', 'y'],
          ['z', 'wwww'],
        ],
      ),
    ).toBe('A   Bee\nxx  y\nz   wwww');
  });

  it('wantsColor: NO_COLOR wins, FORCE_COLOR forces, else a terminal', () => {
    expect(wantsColor(true, {})).toBe(true);
    expect(wantsColor(false, {})).toBe(false);
    expect(wantsColor(true, { NO_COLOR: '1', FORCE_COLOR: '1' })).toBe(false);
    expect(wantsColor(false, { FORCE_COLOR: '1' })).toBe(true);
    expect(wantsColor(true, { FORCE_COLOR: '0' })).toBe(false);
    expect(wantsColor(true, { TERM: 'dumb' })).toBe(false);
  });
});
