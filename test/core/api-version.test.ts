import { describe, expect, it } from 'vitest';
import {
  bearerFor,
  mediaType,
  compareVersions,
  KNOWN_API_VERSIONS,
  NoServedVersion,
  negotiateVersion,
  type VersionAnswer,
  versionOfContentType,
  versionsNamedIn,
} from '../../src/core/api/version.js';
import { nextPage, nextQuery, readPage, sameService } from '../../src/core/poll/paging.js';

// Evidence for the shapes below: the OpenAPI bundles of NetBackup 10.3–11.2 (fjacquet/nbu_exporter docs/veritas-*):
// one media type per release (10.0, 12.0, 13.0, 14.0), 406 "Invalid `Accept` type" with errorCode/errorMessage/
// errorDetails, /admin/jobs paged by page[after] with a string meta.pagination.next, /catalog/images by page[offset].

/** A primary as a probe function: which versions it serves, whether it answers a request without one, what a 406 says. */
function primary(served: string[], o: { unversioned?: boolean; names?: boolean; contentType?: boolean } = {}) {
  const asked: (string | undefined)[] = [];
  const probe = async (v: string | undefined): Promise<VersionAnswer> => {
    asked.push(v);
    const newest = [...served].sort((a, b) => compareVersions(b, a))[0]!;
    if (v === undefined && o.unversioned !== false)
      return { status: 200, contentType: o.contentType === false ? 'application/json' : `application/vnd.netbackup+json;version=${newest}`, json: {} };
    if (v !== undefined && served.includes(v)) return { status: 200, contentType: `application/vnd.netbackup+json;version=${v}`, json: {} };
    return {
      status: 406,
      contentType: 'application/vnd.netbackup+json;version=13.0',
      json: { errorCode: 2060006, errorMessage: 'Invalid `Accept` type.', ...(o.names ? { errorDetails: [`Supported versions: ${served.join(', ')}`] } : {}) },
    };
  };
  return { probe, asked };
}

describe('API version negotiation', () => {
  it('reads the version from a media type, with NetBackup’s and other spellings; nothing from other types', () => {
    expect(versionOfContentType('application/vnd.netbackup+json;version=13.0')).toBe('13.0');
    expect(versionOfContentType('application/vnd.netbackup+json; version=4.0')).toBe('4.0');
    expect(versionOfContentType('Application/VND.NetBackup+JSON; charset=utf-8; version="14.0"')).toBe('14.0');
    expect(versionOfContentType('application/json')).toBeUndefined();
    expect(versionOfContentType('application/vnd.netbackup+json')).toBeUndefined();
    expect(versionOfContentType('text/html; version=13.0')).toBeUndefined();
    expect(versionOfContentType(undefined)).toBeUndefined();
    expect(versionOfContentType('')).toBeUndefined();
    // Only the whole media type, its parameter named exactly, a whole version.
    expect(versionOfContentType('text/plain, application/vnd.netbackup+json;version=13.0')).toBeUndefined();
    expect(versionOfContentType('application/vnd.netbackup+jsonx;version=13.0')).toBeUndefined();
    expect(versionOfContentType('application/vnd.netbackup+json;xversion=13.0')).toBeUndefined();
    expect(versionOfContentType('application/vnd.netbackup+json;versions=13.0')).toBeUndefined();
    expect(versionOfContentType('application/vnd.netbackup+json;version=13.0x')).toBeUndefined();
    expect(versionOfContentType('application/vnd.netbackup+json;version=13.10')).toBe('13.10');
    expect(versionOfContentType(' application/vnd.netbackup+json ; version = 12.0 ; charset=utf-8')).toBe('12.0');
    expect(mediaType('13.0')).toBe('application/vnd.netbackup+json;version=13.0');
  });

  it('compares versions as numbers, and knows the releases newest first', () => {
    expect(compareVersions('13.0', '4.0')).toBeGreaterThan(0);
    expect(compareVersions('4.0', '13.0')).toBeLessThan(0);
    expect(compareVersions('12.1', '12.0')).toBeGreaterThan(0);
    expect(compareVersions('12.0', '12.0')).toBe(0);
    expect(compareVersions('12.2', '12.1')).toBeGreaterThan(0);
    expect(compareVersions('12.1', '12.2')).toBeLessThan(0);
    expect(KNOWN_API_VERSIONS.slice(0, 4)).toEqual(['14.0', '13.0', '12.0', '11.0']);
    expect([...KNOWN_API_VERSIONS].sort((a, b) => compareVersions(b, a))).toEqual(KNOWN_API_VERSIONS);
  });

  it('the versions a 406 names, newest first, without the one refused', () => {
    expect(versionsNamedIn({ errorMessage: 'x', errorDetails: ['Supported versions: 12.0, 13.0'] }, '4.0')).toEqual(['13.0', '12.0']);
    expect(versionsNamedIn({ errorMessage: 'API version 4.0 is not supported', errorDetails: ['up to 11.0'] }, '4.0')).toEqual(['11.0']);
    expect(versionsNamedIn({ errorMessage: 'no numbers', errorDetails: 'not a list' })).toEqual([]);
    expect(versionsNamedIn({ errorDetails: ['host 10.0.0.1 refused'] })).toEqual([]); // an address is not a version
    expect(versionsNamedIn(undefined)).toEqual([]);
    expect(versionsNamedIn({ errorMessage: 'served: 13.10 and 9.0' })).toEqual(['13.10', '9.0']);
    expect(versionsNamedIn({ errorMessage: `${'x'.repeat(5000)} 13.0` })).toEqual([]); // read within a bound
  });

  it('one request when the primary answers without a version and names its own', async () => {
    const p = primary(['12.0', '13.0']);
    expect(await negotiateVersion(p.probe)).toBe('13.0');
    expect(p.asked).toEqual([undefined]);
  });

  it('a primary that requires a version: the ones its 406 names first, newest first', async () => {
    const p = primary(['12.0', '13.0'], { unversioned: false, names: true });
    expect(await negotiateVersion(p.probe)).toBe('13.0');
    expect(p.asked).toEqual([undefined, '13.0']);
  });

  it('a 406 that names nothing: the known versions newest first (14.0 → 13.0 → 12.0 … as nbu_exporter probes)', async () => {
    const p = primary(['3.0', '4.0'], { unversioned: false });
    expect(await negotiateVersion(p.probe)).toBe('4.0');
    expect(p.asked).toEqual([undefined, '14.0', '13.0', '12.0', '11.0', '10.0', '9.0', '8.0', '7.0', '6.0', '5.0', '4.0']);
  });

  it('a version known to work (the one the login answered in) is tried first, alone', async () => {
    const p = primary(['11.0', '12.0'], { contentType: false });
    expect(await negotiateVersion(p.probe, ['12.0'])).toBe('12.0');
    expect(p.asked).toEqual(['12.0']);
  });

  it('an unversioned answer that names no version, and a hint no longer served: probing newest first', async () => {
    const p = primary(['11.0', '12.0'], { contentType: false });
    expect(await negotiateVersion(p.probe, ['13.0'])).toBe('12.0');
    expect(p.asked).toEqual(['13.0', undefined, '14.0', '12.0']);
  });

  it('a 406 that names several: the newest of them next', async () => {
    const p = primary(['11.0', '12.0', '13.0'], { unversioned: false, names: true });
    const asked: (string | undefined)[] = [];
    const quiet = async (v: string | undefined) => {
      asked.push(v);
      const a = await p.probe(v);
      // The first 406 names nothing; the next ones name all three.
      return v === undefined ? { ...a, json: { errorCode: 2060006, errorMessage: 'Invalid `Accept` type.' } } : a;
    };
    expect(await negotiateVersion(quiet)).toBe('13.0');
    expect(asked).toEqual([undefined, '14.0', '13.0']);
  });

  it('nothing served: says so, after each known version once', async () => {
    const p = primary(['99.0'], { unversioned: false });
    await expect(negotiateVersion(p.probe)).rejects.toBeInstanceOf(NoServedVersion);
    expect(p.asked.length).toBe(KNOWN_API_VERSIONS.length + 1);
    expect(new Set(p.asked).size).toBe(p.asked.length);
  });

  it('a JWT goes as Bearer from API 12.0 (NetBackup 10.5) on, bare before and when unknown', () => {
    expect(bearerFor('12.0')).toBe(true);
    expect(bearerFor('14.0')).toBe(true);
    expect(bearerFor('11.0')).toBe(false);
    expect(bearerFor('4.0')).toBe(false);
    expect(bearerFor(undefined)).toBe(false);
  });
});

describe('paging as the primary answers', () => {
  const base = new URL('https://primary.example:1556/netbackup');
  const items = (n: number) => Array.from({ length: n }, (_, i) => ({ type: 'job', id: String(i), attributes: { jobId: i } }));

  it('a string cursor → page[after]; empty on the last page → the end', () => {
    expect(readPage({ data: items(2), meta: { pagination: { next: 'abc' } } }, 100, base, {})!.next).toEqual({ kind: 'after', cursor: 'abc' });
    expect(readPage({ data: items(2), meta: { pagination: { next: '' } } }, 100, base, {})!.next).toEqual({ kind: 'end' });
    expect(readPage({ data: items(2), meta: { pagination: { next: 'abc' } } }, 100, base, { cursor: 'abc' })!.next.kind).toBe('refused');
    expect(nextPage('x'.repeat(5000), undefined, base, {}).kind).toBe('refused');
  });

  it('a number → page[offset], which must move forward', () => {
    expect(nextPage(100, undefined, base, { offset: 0 })).toEqual({ kind: 'offset', offset: 100 });
    expect(nextPage(100, undefined, base, { offset: 100 }).kind).toBe('refused');
    expect(nextPage(-1, undefined, base, {}).kind).toBe('refused');
    expect(nextPage(1.5, undefined, base, {}).kind).toBe('refused');
  });

  it('links.next only on api.baseUrl’s scheme, host, port and path', () => {
    expect(nextPage(undefined, '/netbackup/admin/jobs?page%5Bafter%5D=x', base, {})).toEqual({ kind: 'link', path: '/admin/jobs?page%5Bafter%5D=x' });
    expect(nextPage(undefined, 'https://primary.example:1556/netbackup/admin/jobs?a=1', base, {})).toEqual({ kind: 'link', path: '/admin/jobs?a=1' });
    for (const elsewhere of [
      'https://attacker.example:1556/netbackup/admin/jobs',
      'http://primary.example:1556/netbackup/admin/jobs',
      'https://primary.example:1557/netbackup/admin/jobs',
      'https://primary.example:1556/other/admin/jobs',
      'https://primary.example:1556/netbackupx/admin/jobs',
      'https://user:pw@primary.example:1556/netbackup/admin/jobs',
      '//attacker.example/netbackup/admin/jobs',
      '/netbackup/../admin/jobs',
      '/netbackup/%2e%2e/admin',
      '/netbackup/admin;x=1/jobs',
      '/netbackup/admin%2Fjobs',
    ])
      expect(sameService(elsewhere, base), elsewhere).toBeUndefined();
    expect(nextPage(undefined, 'https://attacker.example/netbackup/admin/jobs', base, {}).kind).toBe('refused');
    expect(nextPage(undefined, undefined, base, {})).toEqual({ kind: 'end' });
  });

  it('a page larger than asked for is cut to what was asked for, and says how large it was', () => {
    const p = readPage({ data: items(350), meta: { pagination: { next: 'c' } } }, 100, base, {})!;
    expect(p.items).toHaveLength(100);
    expect(p.items[99]).toEqual({ jobId: 99 });
    expect(p.oversized).toBe(350);
    expect(readPage({ data: items(100) }, 100, base, {})!.oversized).toBeUndefined();
  });

  it('no data array is no page; an element without attributes is an empty item', () => {
    expect(readPage({ errorCode: 1 }, 100, base, {})).toBeUndefined();
    expect(readPage(undefined, 100, base, {})).toBeUndefined();
    expect(readPage({ data: [null, { id: 'x' }] }, 100, base, {})!.items).toEqual([{}, {}]);
    expect(readPage({ data: [], meta: { pagination: { next: 'c' } } }, 100, base, {})!.next).toEqual({ kind: 'end' });
  });

  it('the next request keeps the first one’s query, with only the page moved', () => {
    const first = new URLSearchParams({ filter: 'a eq 1', sort: 'jobId', 'page[limit]': '100', 'page[offset]': '0' });
    expect(nextQuery(first, { kind: 'after', cursor: 'c1' }).toString()).toBe('filter=a+eq+1&sort=jobId&page%5Blimit%5D=100&page%5Bafter%5D=c1');
    expect(nextQuery(first, { kind: 'offset', offset: 200 }).get('page[offset]')).toBe('200');
    expect(first.get('page[offset]')).toBe('0');
  });
});
