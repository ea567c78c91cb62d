import { describe, expect, it } from 'vitest';
import { flattenHeaders, mapCommand, maskedPath, responseBody, SYNTHETIC, syntheticResponse, uriProblem } from '../../src/core/api/command.js';
import { checkBaseUrl, parseValue } from '../../src/core/config/properties.js';

describe('uriProblem: a uri must be a plain absolute path under the base', () => {
  it.each([
    '/netbackup',
    '/netbackup/',
    '/netbackup/config/servers/vmservers',
    '/netbackup/config/servers/vmservers/vCenter2.domain.com',
    '/netbackup/admin/jobs?filter=jobId%20eq%20146&page%5Blimit%5D=10',
    '/netbackup/a%20b',
    '/netbackup/..x/y',
    '/netbackup/x../y',
    '/netbackup/.hidden',
  ])('%s is accepted', (uri) => expect(uriProblem(uri, '/netbackup')).toBeUndefined());

  it.each([
    ['', 'the uri is empty'],
    ['netbackup/x', 'the uri must be an absolute path (starting with /), not a URL'],
    ['https://evil/netbackup', 'the uri must be an absolute path (starting with /), not a URL'],
    ['//evil/netbackup', 'the uri must not start with //'],
    ['/netbackup/a b', 'the uri contains a control character or a space'],
    ['/netbackup/a\tb', 'the uri contains a control character or a space'],
    ['/netbackup/a\u007fb', 'the uri contains a control character or a space'],
    ['/netbackup\\x', 'the uri contains a backslash'],
    ['/netbackup/x#y', 'the uri contains a fragment (#)'],
    ['/netbackup/..', 'the uri contains a "." or ".." segment'],
    ['/netbackup/./x', 'the uri contains a "." or ".." segment'],
    ['/netbackup/%2e', 'the uri contains a "." or ".." segment'],
    ['/netbackup/%2e%2E/x', 'the uri contains a "." or ".." segment'],
    ['/netbackup/%25252e%25252e/x', 'the uri contains a "." or ".." segment'],
    ['/netbackup/a%2fb', 'the uri contains an encoded slash or backslash'],
    ['/netbackup/a%5Cb', 'the uri contains an encoded slash or backslash'],
    ['/netbackup/a%0ab', 'the uri contains an encoded control character'],
    ['/netbackup/a%7fb', 'the uri contains an encoded control character'],
    ['/netbackup/%zz', 'the uri has a malformed percent-encoding'],
    // Servlet containers drop ";…" path parameters before resolving "..": the red team's /netbackup/..;/echo.
    ['/netbackup/..;/echo', 'the uri contains a ";" path parameter'],
    ['/netbackup/%2e%2e;/admin', 'the uri contains a ";" path parameter'],
    ['/netbackup/admin;jsessionid=1/jobs', 'the uri contains a ";" path parameter'],
    ['/netbackup/%3b/x', 'the uri contains a ";" path parameter'],
    ['/netbackup/.../x', 'the uri contains a segment of only dots and spaces'],
    ['/netbackup/..%20/x', 'the uri contains a segment of only dots and spaces'],
    ['/netbackup/.%20./x', 'the uri contains a segment of only dots and spaces'],
    [`/netbackup/%${'25'.repeat(10)}2e`, 'the uri is percent-encoded too many times'],
    [`/netbackup/%${'25'.repeat(7)}2e%${'25'.repeat(7)}2e`, 'the uri contains a "." or ".." segment'],
    ['/netbackupx', 'the uri is not under /netbackup/'],
    ['/net', 'the uri is not under /netbackup/'],
    ['/other/netbackup', 'the uri is not under /netbackup/'],
  ])('%j: %s', (uri, why) => expect(uriProblem(uri, '/netbackup')).toBe(why));

  it('dot segments are refused in the query too only where they are path segments', () => {
    expect(uriProblem('/netbackup/x?a=../b', '/netbackup')).toBeUndefined();
  });

  it('a base with a trailing slash or the root base', () => {
    expect(uriProblem('/netbackup/x', '/netbackup/')).toBeUndefined();
    expect(uriProblem('/anything', '/')).toBeUndefined();
    expect(uriProblem('/anything/../x', '/')).toBe('the uri contains a "." or ".." segment');
  });
});

describe('mapCommand', () => {
  const base = '/netbackup';
  it("maps the guide's example A: method, path, headers lower-cased, parameters as the body", () => {
    const r = mapCommand(
      {
        uri: '/netbackup/config/servers/vmservers',
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: 'jwt' },
        parameters: '{"a":1}',
      },
      base,
    );
    expect(r).toEqual({
      ok: true,
      request: {
        method: 'POST',
        path: '/netbackup/config/servers/vmservers',
        headers: { 'content-type': 'application/json', authorization: 'jwt' },
        body: '{"a":1}',
      },
    });
  });

  it('no headers, no parameters, empty parameters: no body', () => {
    expect(mapCommand({ uri: '/netbackup/x', method: 'GET' }, base)).toEqual({
      ok: true,
      request: { method: 'GET', path: '/netbackup/x', headers: {}, body: undefined },
    });
    expect(mapCommand({ uri: '/netbackup/x', method: 'DELETE', headers: null, parameters: '' }, base)).toMatchObject({
      ok: true,
      request: { body: undefined },
    });
  });

  it('drops hop-by-hop headers, those named by Connection, Host and Content-Length; joins names that differ only in case', () => {
    const r = mapCommand(
      {
        uri: '/netbackup/x',
        method: 'GET',
        headers: {
          Host: 'h',
          'content-length': '1',
          Connection: 'close, X-A',
          'X-A': '1',
          TE: 'trailers',
          'Keep-Alive': 'x',
          Expect: '100-continue',
          'X-B': 'one',
          'x-b': 'two',
        },
      },
      base,
    );
    expect(r).toMatchObject({ ok: true, request: { headers: { 'x-b': 'one, two' } } });
    expect(Object.keys((r as { request: { headers: object } }).request.headers)).toEqual(['x-b']);
  });

  it.each([
    [null, 400, 'the payload must be an object'],
    [[], 400, 'the payload must be an object'],
    [{ method: 'GET' }, 400, 'payload.uri must be a string'],
    [{ uri: '/netbackup/x' }, 400, 'payload.method must be a string'],
    [{ uri: '/netbackup/x', method: 'HEAD' }, 405, 'method "HEAD" is not allowed; use one of GET, POST, PUT, PATCH, DELETE'],
    [{ uri: '/etc', method: 'GET' }, 403, 'the uri is not under /netbackup/'],
    [{ uri: '/netbackup/x', method: 'GET', headers: 'a' }, 400, 'payload.headers must be an object of strings'],
    [{ uri: '/netbackup/x', method: 'GET', headers: { a: 1 } }, 400, 'header "a" must be a string'],
    [{ uri: '/netbackup/x', method: 'GET', headers: { 'a b': '1' } }, 400, '"a b" is not a valid header name'],
    [{ uri: '/netbackup/x', method: 'GET', headers: { a: 'x\ny' } }, 400, 'header a has a value with a line break or control character'],
    [{ uri: '/netbackup/x', method: 'POST', parameters: 5 }, 400, 'payload.parameters must be a string (the request body, JSON-escaped)'],
  ])('%j → %i', (payload, code, message) => {
    const r = mapCommand(payload, base);
    expect(r.ok).toBe(false);
    const res = (r as { response: { responseCode: number; body: string; headers: Record<string, string> } }).response;
    expect(res.responseCode).toBe(code);
    expect(JSON.parse(res.body).errorMessage).toBe(message);
    expect(res.headers['content-type']).toBe('application/json');
  });

  it('the method is checked before the uri (a bad method is 405 whatever the uri)', () => {
    expect((mapCommand({ uri: '//x', method: 'TRACE' }, base) as { response: { responseCode: number } }).response.responseCode).toBe(405);
  });
});

describe('synthetic answers and response headers', () => {
  it('each error code has its documented status', () => {
    expect(SYNTHETIC).toEqual({
      NBWSS_BAD_REQUEST: 400,
      NBWSS_URI_REFUSED: 403,
      NBWSS_METHOD_NOT_ALLOWED: 405,
      NBWSS_RESPONSE_TOO_LARGE: 413,
      NBWSS_REQUEST_TOO_LARGE: 413,
      NBWSS_NOT_CONNECTED: 425,
      NBWSS_BUSY: 503,
      NBWSS_API_UNREACHABLE: 502,
      NBWSS_API_TLS: 502,
      NBWSS_API_TIMEOUT: 504,
    });
    expect(syntheticResponse('NBWSS_API_TIMEOUT', 'slow')).toEqual({
      headers: { 'content-type': 'application/json', 'x-nbwss-error': 'NBWSS_API_TIMEOUT' },
      responseCode: 504,
      body: '{"errorCode":"NBWSS_API_TIMEOUT","errorMessage":"slow"}',
    });
  });

  it('a body that is UTF-8 passes as text; one that is not goes as base64, said in x-nbwss-body-encoding', () => {
    expect(responseBody(Buffer.from('{"a":"é"}'), { 'content-type': 'application/json' })).toEqual({
      body: '{"a":"é"}',
      headers: { 'content-type': 'application/json' },
    });
    const binary = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff, 0x00]);
    expect(responseBody(binary, { 'content-type': 'image/png' })).toEqual({
      body: binary.toString('base64'),
      headers: { 'content-type': 'image/png', 'x-nbwss-body-encoding': 'base64' },
    });
  });

  it('a header value beyond Latin-1 is refused 400 naming the header (HTTP cannot carry it; undici would throw)', () => {
    const r = mapCommand({ uri: '/netbackup/x', method: 'GET', headers: { 'X-Note': 'caf\u00e9 \u2603' } }, '/netbackup');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.response.responseCode).toBe(400);
      expect(JSON.parse(r.response.body)).toEqual({
        errorCode: 'NBWSS_BAD_REQUEST',
        errorMessage: 'header X-Note has a character beyond Latin-1, which HTTP cannot carry: percent-encode it',
      });
    }
    expect(mapCommand({ uri: '/netbackup/x', method: 'GET', headers: { 'X-Note': 'caf\u00e9' } }, '/netbackup').ok).toBe(true);
  });

  it('flattenHeaders: lower-case names, arrays joined with ", ", undefined left out', () => {
    expect(flattenHeaders({ 'Set-Cookie': ['a=1', 'b=2'], Date: 'd', 'x-none': undefined })).toEqual({ 'set-cookie': 'a=1, b=2', date: 'd' });
  });

  it('maskedPath hides the query', () => {
    expect(maskedPath('/netbackup/x?token=secret')).toBe('/netbackup/x?<redacted>');
    expect(maskedPath('/netbackup/x')).toBe('/netbackup/x');
  });
});

describe('the api.* properties', () => {
  it.each([
    ['https://localhost:1556/netbackup', undefined],
    ['https://nbu.example.com/netbackup', undefined],
    ['http://localhost:1556/netbackup', 'an https:// URL (the REST service is reached over TLS only)'],
    ['localhost:1556', 'an https:// URL (the REST service is reached over TLS only)'],
    ['not a url', 'an https:// URL'],
    ['https://u:p@localhost/netbackup', 'a URL without user:password@'],
    ['https://localhost/netbackup?x=1', 'a URL without a query string or fragment'],
    ['https://localhost/netbackup#x', 'a URL without a query string or fragment'],
    ['https://localhost/netbackup?', 'a URL without a query string or fragment'],
  ])('api.baseUrl %s', (v, why) => expect(checkBaseUrl(v)).toBe(why));

  it('parseValue checks strings and sizes', () => {
    expect(parseValue('api.baseUrl', ' https://h/netbackup ')).toBe('https://h/netbackup');
    expect(() => parseValue('api.baseUrl', 'ftp://h')).toThrow('api.baseUrl must be an https:// URL');
    expect(parseValue('api.caFile', '')).toBe('');
    expect(parseValue('api.caFile', '/etc/nbwss/ca.pem')).toBe('/etc/nbwss/ca.pem');
    expect(() => parseValue('api.caFile', 'ca.pem')).toThrow('api.caFile must be an absolute path to a PEM file, or empty, not "ca.pem"');
    expect(() => parseValue('api.maxBodyBytes', '10')).toThrow('api.maxBodyBytes must be a whole number of bytes from 1024 to 536870912, not 10');
    expect(parseValue('connect.timeout', '10000')).toBe(10000);
  });
});
