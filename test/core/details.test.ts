import { describe, expect, it } from 'vitest';
import { parseDetails, MAX_DETAILS_BYTES } from '../../src/core/endpoint/details.js';
import { NbwssError } from '../../src/core/errors.js';

const good = { token: 'tok', priority: 1, groupId: 'sg1', hostName: 'cloudhost7.nebula.com', url: 'wss://cloudhost7.nebula.com:8080/netbackup/face1' };
const bytes = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
const load = (v: unknown) => parseDetails(bytes(v));
const failure = (v: unknown): NbwssError => {
  try {
    load(v);
  } catch (e) {
    if (e instanceof NbwssError) return e;
    throw e;
  }
  throw new Error('accepted');
};
const message = (v: unknown) => failure(v).message;

describe('parseDetails: accepted details', () => {
  it('takes one object', () => {
    expect(load(good)).toEqual({ endpoints: [good], warnings: [] });
  });

  it('takes an array of objects', () => {
    const two = [good, { ...good, hostName: 'ep2.nebula.com', url: 'wss://ep2.nebula.com/x', priority: 2 }];
    expect(load(two).endpoints).toHaveLength(2);
  });

  it('accepts a UTF-8 BOM and CRLF line endings (files made on Windows)', () => {
    const text = `\ufeff${JSON.stringify(good, null, 2).replace(/\n/g, '\r\n')}`;
    expect(parseDetails(Buffer.from(text, 'utf8')).endpoints[0]).toEqual(good);
  });

  it('stores a priority given as a string of digits as a number', () => {
    expect(load({ ...good, priority: '7' }).endpoints[0]!.priority).toBe(7);
    expect(load({ ...good, priority: 0 }).endpoints[0]!.priority).toBe(0);
  });

  it('accepts IPv4 and IPv6 host names', () => {
    expect(load({ ...good, hostName: '10.1.2.3', url: 'wss://10.1.2.3/x' }).warnings).toEqual([]);
    expect(load({ ...good, hostName: '::1', url: 'wss://[::1]:8443/x' }).warnings).toEqual([]);
  });

  it('warns about unknown fields by name and ignores them', () => {
    const r = load({ ...good, comment: 'x', extra: 1 });
    expect(r.endpoints[0]).toEqual(good);
    expect(r.warnings).toEqual(['ignoring unknown fields: comment, extra']);
  });

  it('warns when hostName differs from the url host, ignoring case', () => {
    expect(load({ ...good, hostName: 'CloudHost7.Nebula.com' }).warnings).toEqual([]);
    expect(load({ ...good, hostName: 'other.nebula.com' }).warnings[0]).toMatch(
      /hostName other.nebula.com differs from the host of the url \(cloudhost7.nebula.com\)/,
    );
  });
});

describe('parseDetails: every rejection names what is wrong', () => {
  it.each([
    ['token', '', 'token is empty'],
    ['token', '   ', 'token is blank'],
    ['token', 'a\nb', 'token contains a control character (U+000A)'],
    ['token', 'a\u0085b', 'token contains a control character (U+0085)'],
    ['token', 5, 'token must be a string'],
    ['groupId', '', 'groupId is empty'],
    ['groupId', '\t', 'groupId is blank'],
    ['hostName', '', 'hostName is empty'],
    ['hostName', 'bad_host!', 'hostName is not a valid DNS name or IP address'],
    ['hostName', '-lead.example.com', 'hostName is not a valid DNS name or IP address'],
    ['hostName', '1.2.3', 'hostName is not a valid DNS name or IP address'],
    ['url', '', 'url is empty'],
    ['url', 'wss://a\u0000b/', 'url contains a control character (U+0000)'],
  ])('%s = %j', (field, value, why) => {
    const e = failure({ ...good, [field]: value });
    expect(e.code).toBe('INVALID_DETAILS');
    expect(e.message).toBe(`JSON contents not valid: ${why}`);
  });

  it.each(['token', 'priority', 'groupId', 'hostName', 'url'])('a missing %s', (field) => {
    const d: Record<string, unknown> = { ...good };
    delete d[field];
    expect(message(d)).toBe(`JSON contents not valid: ${field} is missing`);
  });

  it.each([
    [-1, 'is -1'],
    [1.5, 'is 1.5'],
    [true, 'is boolean true'],
    ['1a', 'is the string "1a"'],
    ['-1', 'is the string "-1"'],
    ['', 'is the string ""'],
    [null, 'is null'],
    [2 ** 31, 'is larger than 2147483647'],
  ])('priority %j', (value, why) => {
    expect(message({ ...good, priority: value })).toBe(
      `JSON contents not valid: priority ${why}; it must be a whole number of 0 or more (a lower number is a higher priority)`,
    );
  });

  it('refuses an apostrophe anywhere in the text, with its position', () => {
    expect(message('{"token": "it\'s", "priority": 1}')).toBe(
      "JSON contents not valid: an apostrophe (') at line 1, column 14; NetBackup does not support an apostrophe anywhere in the endpoint details",
    );
    expect(message(`{"a'b": 1, ${JSON.stringify(good).slice(1)}`)).toMatch(/^JSON contents not valid: an apostrophe \('\) at line 1, column 4/);
  });

  it('refuses an apostrophe that only appears after unescaping (\\u0027), in values and keys', () => {
    expect(message(JSON.stringify({ ...good, token: 'x' }).replace('"x"', '"it\\u0027s"'))).toBe(
      'JSON contents not valid: an escaped apostrophe (\\u0027) in token; NetBackup does not support an apostrophe anywhere in the endpoint details',
    );
    expect(message(`{"a\\u0027b": 1, ${JSON.stringify(good).slice(1)}`)).toMatch(/escaped apostrophe \(\\u0027\) in a property name/);
    expect(message(`{"note": "\\u0027", ${JSON.stringify(good).slice(1)}`)).toMatch(/escaped apostrophe \(\\u0027\) in property "note"/);
  });

  it('gives line and column for a syntax error', () => {
    expect(message('{\n  "token": "x",\n  "priority": 1\n  "groupId": "g"\n}')).toBe(
      "JSON contents not valid: not valid JSON: unexpected character '\"', ',' or '}' was expected at line 4, column 3",
    );
  });

  it('refuses invalid UTF-8 instead of replacing it', () => {
    const b = Buffer.concat([Buffer.from('{"token": "a'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    expect(() => parseDetails(b)).toThrow('JSON contents not valid: the details are not valid UTF-8 (invalid byte at offset 12)');
  });

  it('refuses details over 1 MiB', () => {
    expect(() => parseDetails(Buffer.alloc(MAX_DETAILS_BYTES + 1, 0x20))).toThrow(/larger than 1 MiB/);
  });

  it.each([
    ['[]', 'JSON contents not valid: the array of endpoints is empty'],
    ['null', 'JSON contents not valid: the details must be a JSON object with token, priority, groupId, hostName and url (got null)'],
    ['"x"', 'JSON contents not valid: the details must be a JSON object with token, priority, groupId, hostName and url (got the string "x")'],
    ['[null]', 'JSON contents not valid: endpoint 1: the details must be a JSON object with token, priority, groupId, hostName and url (got null)'],
    ['[[]]', 'JSON contents not valid: endpoint 1: the details must be a JSON object with token, priority, groupId, hostName and url (got an array)'],
  ])('%s', (text, msg) => {
    expect(message(text)).toBe(msg);
  });

  it('labels which endpoint of an array is wrong', () => {
    expect(message([good, { ...good, hostName: 'b.example.com', token: '' }])).toBe('JSON contents not valid: endpoint 2: token is empty');
  });

  it('refuses an array that names one host twice, ignoring case', () => {
    expect(message([good, { ...good, hostName: 'CLOUDHOST7.nebula.com' }])).toBe(
      'JSON contents not valid: endpoints 1 and 2 both name the host cloudhost7.nebula.com; each hostName must be unique',
    );
  });

  it('never echoes the token in a message', () => {
    const secret = 'S3CRET-TOKEN-VALUE';
    for (const bad of [
      { ...good, token: secret, priority: -1 },
      { ...good, token: secret, url: 'ws://x/' },
      { ...good, token: `${secret}\u0001` },
    ]) {
      const e = failure(bad);
      expect(`${e.message}\n${e.hint}`).not.toContain(secret);
    }
  });
});

describe('parseDetails: url rules (guide table 3-2)', () => {
  it.each(['ws://cloudhost7.nebula.com/x', 'https://cloudhost7.nebula.com/x', 'http://h/', 'ftp://h/', 'WS://h/'])('%s is refused: wss only', (url) => {
    const e = failure({ ...good, url });
    expect(e.message).toBe('Invalid websocket protocol. Only wss protocol supported');
    expect(e.code).toBe('INVALID_DETAILS');
  });

  it.each([
    ['wss://', 'The url cannot be parsed'],
    ['not a url', 'The url cannot be parsed'],
    ['wss://user:pw@cloudhost7.nebula.com/x', 'The url must not contain user:password@'],
    ['wss://[::1/x', 'The url cannot be parsed'],
  ])('%s is a malformed URL', (url, hint) => {
    const e = failure({ ...good, url });
    expect(e.message).toBe(`Malformed URL: ${url.replace('user:pw@', '<redacted>@')}`);
    expect(e.hint).toMatch(hint);
  });

  it('masks the query string of a malformed URL', () => {
    const e = failure({ ...good, url: 'wss://u:p@h/x?key=SECRET' });
    expect(e.message).toBe('Malformed URL: wss://<redacted>@h/x?<redacted>');
  });

  it('accepts WSS in any case', () => {
    expect(load({ ...good, url: 'WSS://cloudhost7.nebula.com/x' }).endpoints).toHaveLength(1);
  });
});

describe('parseDetails: duplicate fields', () => {
  it('refuses a field given twice (JSON allows it, but which token was meant?)', () => {
    expect(message('{"token": "a", "token": "b"}')).toBe(
      'JSON contents not valid: duplicate property "token" at line 1, column 16; each field may appear only once',
    );
  });
});
