import { describe, expect, it } from 'vitest';
import { rejection } from '../helpers/rejection.js';
import { decodeDetails, MAX_DETAILS_BYTES, MAX_ENDPOINTS, parseDetails, validateToken } from '../../src/core/endpoint/details.js';

// The endpoint details' rejections and warnings word for word (code, message, hint): the guide's "JSON contents not
// valid" and "InvalidPacketException Unable to parse JSON contents" first, then what is wrong and how to fix it. test/core/details.test.ts checks
// the rules; this file pins what the administrator reads.

const HINT =
  'Correct the endpoint details: one JSON object {"token", "priority", "groupId", "hostName", "url"} (or an array of them), with a wss:// url and no apostrophe anywhere.';

const bytes = (text: string) => Buffer.from(text, 'utf8');
const endpoint = (over: Record<string, unknown> = {}) => ({
  token: 'T0k',
  priority: 1,
  groupId: 'g1',
  hostName: 'cloud.example.com',
  url: 'wss://cloud.example.com/nbwss',
  ...over,
});
const rejectDetails = (value: unknown, from: 'file' | 'url' = 'file') => rejection(() => parseDetails(bytes(JSON.stringify(value)), from));

describe('what the details are refused for, word for word', () => {
  it('not an object: says what it got', () => {
    expect(rejectDetails(['x'.repeat(30)])).toEqual({
      code: 'INVALID_DETAILS',
      message:
        'JSON contents not valid: endpoint 1: the details must be a JSON object with token, priority, groupId, hostName and url (got the string "xxxxxxxxxxxxxxxxxxxx…")',
      hint: HINT,
    });
    expect(rejectDetails(['short'])).toMatchObject({ message: expect.stringContaining('(got the string "short")') });
    expect(rejectDetails([[1]])).toMatchObject({ message: expect.stringContaining('(got an array)') });
    expect(rejectDetails([null])).toMatchObject({ message: expect.stringContaining('(got null)') });
    expect(rejectDetails([7])).toMatchObject({ message: expect.stringContaining('(got number 7)') });
    expect(rejectDetails([endpoint(), [endpoint()]]).message).toContain('endpoint 2: the details must be a JSON object');
  });

  it('an empty array, and too many endpoints at once', () => {
    expect(rejectDetails([])).toEqual({ code: 'INVALID_DETAILS', message: 'JSON contents not valid: the array of endpoints is empty', hint: HINT });
    const many = Array.from({ length: MAX_ENDPOINTS + 1 }, (_, i) => endpoint({ hostName: `h${i}.example.com`, url: `wss://h${i}.example.com/x` }));
    expect(rejectDetails(many)).toEqual({
      code: 'INVALID_DETAILS',
      message: `JSON contents not valid: the array holds ${MAX_ENDPOINTS + 1} endpoints; at most ${MAX_ENDPOINTS} can be added at once`,
      hint: `Split the details into files of at most ${MAX_ENDPOINTS} endpoints.`,
    });
  });

  it('JSON that does not parse: where, and to correct the syntax; from a URL, the guide\'s "Unparsable JSON response"', () => {
    const fromFile = rejection(() => parseDetails(bytes('{"token": }')));
    expect(fromFile.code).toBe('INVALID_DETAILS');
    expect(fromFile.message).toMatch(/^JSON contents not valid: not valid JSON: /);
    expect(fromFile.hint).toBe('Correct the JSON syntax at that position.');
    const fromUrl = rejection(() => parseDetails(bytes('<html>'), 'url'));
    expect(fromUrl.code).toBe('INVALID_DETAILS');
    expect(fromUrl.message).toBe('InvalidPacketException Unable to parse JSON contents');
    expect(fromUrl.hint).toMatch(
      /^The URL answered with something other than endpoint details \(not valid JSON: .+\)\. Check the URL with the cloud provider\.$/,
    );
  });

  it('bytes that are not UTF-8: the offset of the first bad byte, and to save as UTF-8; from a URL, unparsable', () => {
    const bad = Buffer.concat([bytes('{"token":"ab'), Buffer.from([0xc3, 0x28]), bytes('"}')]);
    expect(rejection(() => parseDetails(bad))).toEqual({
      code: 'INVALID_DETAILS',
      message: 'JSON contents not valid: the details are not valid UTF-8 (invalid byte at offset 12)',
      hint: 'Save the file as UTF-8.',
    });
    expect(rejection(() => parseDetails(bad, 'url'))).toEqual({
      code: 'INVALID_DETAILS',
      message: 'InvalidPacketException Unable to parse JSON contents',
      hint: 'The URL answered with something other than endpoint details (the details are not valid UTF-8 (invalid byte at offset 12)). Check the URL with the cloud provider.',
    });
    // A character cut at the end is at its own offset.
    expect(rejection(() => decodeDetails(Buffer.concat([bytes('{}'), Buffer.from([0xe2, 0x82])]))).message).toBe(
      'JSON contents not valid: the details are not valid UTF-8 (invalid byte at offset 2)',
    );
  });

  it('a byte order mark is dropped; the details of exactly 1 MiB are decoded, one byte more is refused', () => {
    expect(parseDetails(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes(JSON.stringify(endpoint()))])).endpoints).toHaveLength(1);
    expect(decodeDetails(Buffer.alloc(MAX_DETAILS_BYTES, 32))).toHaveLength(MAX_DETAILS_BYTES);
    expect(rejection(() => decodeDetails(Buffer.alloc(MAX_DETAILS_BYTES + 1, 32)))).toEqual({
      code: 'INVALID_DETAILS',
      message: `JSON contents not valid: the details are larger than 1 MiB (${MAX_DETAILS_BYTES + 1} bytes)`,
      hint: 'Endpoint details are a few hundred bytes; check that this is the right file.',
    });
  });

  it('a field that is an unpaired surrogate escape', () => {
    const text = JSON.stringify(endpoint()).replace('"T0k"', '"T0k\\ud800"');
    expect(rejection(() => parseDetails(bytes(text)))).toEqual({
      code: 'INVALID_DETAILS',
      message: 'JSON contents not valid: token contains an unpaired UTF-16 surrogate escape',
      hint: HINT,
    });
  });

  it('a missing priority', () => {
    const { priority: _, ...noPriority } = endpoint();
    expect(rejectDetails(noPriority)).toEqual({ code: 'INVALID_DETAILS', message: 'JSON contents not valid: priority is missing', hint: HINT });
  });

  it('a priority: a whole number from 0 to 2^31 - 1, as a number or as digits; -0 is 0', () => {
    const priorityOf = (priority: unknown) => parseDetails(bytes(JSON.stringify(endpoint({ priority })))).endpoints[0]!.priority;
    expect(priorityOf('12')).toBe(12);
    expect(priorityOf(2 ** 31 - 1)).toBe(2 ** 31 - 1);
    expect(Object.is(parseDetails(bytes(JSON.stringify(endpoint()).replace('"priority":1', '"priority":-0'))).endpoints[0]!.priority, 0)).toBe(true);
    const rule = 'it must be a whole number of 0 or more (a lower number is a higher priority)';
    expect(rejectDetails(endpoint({ priority: 2 ** 31 })).message).toBe(`JSON contents not valid: priority is larger than 2147483647; ${rule}`);
    expect(rejectDetails(endpoint({ priority: '1x' })).message).toBe(`JSON contents not valid: priority is the string "1x"; ${rule}`);
    expect(rejectDetails(endpoint({ priority: 1.5 })).message).toBe(`JSON contents not valid: priority is 1.5; ${rule}`);
    expect(rejectDetails(endpoint({ priority: -1 })).message).toBe(`JSON contents not valid: priority is -1; ${rule}`);
  });

  it.each(['groupId', 'hostName', 'url'])('an invisible character (zero-width space) in %s: refused, named by its code point', (field) => {
    const value = { groupId: 'g\u200b1', hostName: 'cloud\u200b.example.com', url: 'wss://cloud.example.com/nb\u200bwss' }[field];
    expect(rejectDetails(endpoint({ [field]: value }))).toEqual({
      code: 'INVALID_DETAILS',
      message: `JSON contents not valid: ${field} contains a control character (U+200B)`,
      hint: HINT,
    });
  });

  it('a zero-width space in the token is taken: only the names shown and compared must be visible', () => {
    expect(parseDetails(bytes(JSON.stringify(endpoint({ token: 'T0\u200bk' })))).endpoints[0]!.token).toBe('T0\u200bk');
  });

  it('unknown fields are ignored with a warning that names them (one or several)', () => {
    expect(parseDetails(bytes(JSON.stringify(endpoint({ extra: 1 })))).warnings).toEqual(['ignoring unknown field: extra']);
    expect(parseDetails(bytes(JSON.stringify([endpoint({ a: 1, b: 2 })]))).warnings).toEqual(['endpoint 1: ignoring unknown fields: a, b']);
  });
});

describe('a token given alone (nbwss token set)', () => {
  it('an apostrophe: refused, ask for another token', () => {
    expect(rejection(() => validateToken("ab'c"))).toEqual({
      code: 'INVALID_DETAILS',
      message: "JSON contents not valid: the token contains an apostrophe ('); NetBackup does not support an apostrophe anywhere in the endpoint details",
      hint: 'Ask the cloud provider for a token without an apostrophe.',
    });
  });

  it('an empty token: refused, with how to give one', () => {
    const r = rejection(() => validateToken(''));
    expect(r.code).toBe('INVALID_DETAILS');
    expect(r.message).toMatch(/^JSON contents not valid: token /);
    expect(r.hint).toBe('Give the token alone on standard input, for example: nbwss token set HOST < token.txt');
  });
});
