import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { EnvHttpProxyAgent, request, errors as undiciErrors } from 'undici';
import { GUIDE, NbwssError } from '../errors.js';
import { MAX_DETAILS_BYTES } from './details.js';
import { maskUrl, urlHost } from './url.js';
import { describeSocketError, describeTlsFailure } from '../net-errors.js';
import { W } from '../hints.js';

export interface RemoteOptions {
  timeoutMs?: number;
  /** PEM files of CAs to trust besides the system's (and NODE_EXTRA_CA_CERTS). */
  caFiles?: string[];
  env?: NodeJS.ProcessEnv;
}

export const MAX_REDIRECTS = 3;

/** The guide's "Invalid command parameter" / "Malformed URL" for a details URL. */
export function parseDetailsUrl(raw: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new NbwssError('INVALID_DETAILS', GUIDE.malformedUrl(maskUrl(raw)), {
      hint: 'Give the https:// URL that the cloud provider generated for the endpoint details.',
    });
  }
  if (parsed.protocol !== 'https:') {
    throw new NbwssError('INVALID_DETAILS', GUIDE.invalidParameter, {
      hint: `The details URL ${maskUrl(raw)} must start with https:// (the token travels in the answer).`,
    });
  }
  if (parsed.username || parsed.password)
    throw new NbwssError('INVALID_DETAILS', GUIDE.malformedUrl(maskUrl(raw)), { hint: 'The details URL must not contain user:password@.' });
  return parsed;
}

function loadCas(files: string[], env: NodeJS.ProcessEnv): string[] | undefined {
  if (files.length === 0) return undefined; // Node's default store already holds NODE_EXTRA_CA_CERTS
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (e) {
      throw new NbwssError('USAGE', `Cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
        hint: 'Give a readable PEM file.',
      });
    }
  };
  const extra = env.NODE_EXTRA_CA_CERTS ? [read(env.NODE_EXTRA_CA_CERTS, 'NODE_EXTRA_CA_CERTS')] : [];
  return [...rootCertificates, ...extra, ...files.map((f) => read(f, '--ca-file'))];
}

const remoteError = (why: string, cause?: unknown) =>
  new NbwssError('NETWORK', GUIDE.remoteObject, {
    hint: `${why}. Make sure the URL is right and the server has a valid SSL certificate (add its CA with ${W.caFile}).`,
    cause,
  });

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/**
 * Fetch endpoint details from an https URL: TLS verified against the system
 * CAs (+ --ca-file, NODE_EXTRA_CA_CERTS), proxies from HTTPS_PROXY/NO_PROXY,
 * at most 3 redirects and never to http, at most 1 MiB, every wait bounded.
 * Messages show the URL with its query string masked.
 */
export async function fetchDetails(raw: string, options: RemoteOptions = {}): Promise<Buffer> {
  const env = options.env ?? process.env;
  const timeout = options.timeoutMs ?? 10_000;
  const ca = loadCas(options.caFiles ?? [], env);
  const dispatcher = new EnvHttpProxyAgent({
    connect: { timeout, ...(ca ? { ca } : {}) },
    ...(ca ? { requestTls: { ca } } : {}),
    headersTimeout: timeout,
    bodyTimeout: timeout,
    httpProxy: env.HTTP_PROXY ?? env.http_proxy,
    httpsProxy: env.HTTPS_PROXY ?? env.https_proxy,
    noProxy: env.NO_PROXY ?? env.no_proxy,
  });
  // --timeout is a deadline for the whole fetch (redirects and body included), not only for each wait:
  // a server that sends one byte a second cannot keep the run alive.
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), timeout);
  let host = '';
  try {
    let url = parseDetailsUrl(raw);
    const seen = new Set<string>();
    for (let hop = 0; ; hop++) {
      host = urlHost(url);
      let res: Awaited<ReturnType<typeof request>>;
      try {
        res = await request(url, { dispatcher, method: 'GET', headers: { accept: 'application/json' }, signal: deadline.signal });
      } catch (e) {
        throw classify(e, host);
      }
      if (res.statusCode >= 300 && res.statusCode < 400 && res.headers.location) {
        res.body.resume();
        const loc = String(res.headers.location);
        let next: URL;
        try {
          next = new URL(loc, url);
        } catch {
          throw remoteError(`${maskUrl(url.href)} redirected to an invalid location`);
        }
        if (next.protocol !== 'https:')
          throw remoteError(`${maskUrl(url.href)} redirected to ${maskUrl(next.href)}, which is not https; the details are never fetched over plain http`);
        if (seen.has(next.href)) throw remoteError(`redirect loop at ${maskUrl(next.href)}`);
        if (hop + 1 > MAX_REDIRECTS) throw remoteError(`more than ${MAX_REDIRECTS} redirects`);
        seen.add(url.href);
        url = next;
        continue;
      }
      if (res.statusCode < 200 || res.statusCode >= 300) {
        res.body.resume();
        throw remoteError(`${maskUrl(url.href)} answered HTTP ${res.statusCode}`);
      }
      const chunks: Buffer[] = [];
      let received = 0;
      try {
        for await (const chunk of res.body) {
          received += (chunk as Buffer).length;
          if (received > MAX_DETAILS_BYTES) {
            res.body.destroy();
            throw new NbwssError('INVALID_DETAILS', `${GUIDE.jsonNotValid}: the details are larger than 1 MiB`, {
              hint: 'The URL does not serve endpoint details; check it with the cloud provider.',
            });
          }
          chunks.push(chunk as Buffer);
        }
      } catch (e) {
        if (e instanceof NbwssError) throw e;
        throw classify(e, host);
      }
      return Buffer.concat(chunks);
    }
  } catch (e) {
    if (deadline.signal.aborted && !(e instanceof NbwssError && e.code === 'INVALID_DETAILS')) {
      throw new NbwssError('NETWORK', GUIDE.unableToConnect(host), {
        hint: `The details did not arrive within ${timeout} ms (${W.timeout} bounds the whole fetch). Make sure the URL is right and the server answers, or give a longer ${W.timeout}.`,
        cause: e,
      });
    }
    throw e;
  } finally {
    clearTimeout(timer);
    await dispatcher.destroy().catch(() => {});
  }
}

function classify(error: unknown, host: string): NbwssError {
  if (error instanceof NbwssError) return error;
  const err = error as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = err.code ?? err.cause?.code ?? '';
  if (
    error instanceof undiciErrors.HeadersTimeoutError ||
    error instanceof undiciErrors.BodyTimeoutError ||
    error instanceof undiciErrors.ConnectTimeoutError ||
    CONNECT_CODES.has(code)
  ) {
    return new NbwssError('NETWORK', GUIDE.unableToConnect(host), {
      hint: `${describe(code, error)}. Make sure the host name and port are correct, that you can reach it (or set HTTPS_PROXY), and that DNS lookup works.`,
      cause: error,
    });
  }
  // Plain words first, OpenSSL's code after them.
  return remoteError(describeTlsFailure(code) ?? describeSocketError(code) ?? `${code || (error as Error).message}`, error);
}

function describe(code: string, err: unknown): string {
  if (err instanceof undiciErrors.BodyTimeoutError) return 'the server stopped sending the details (timed out)';
  if (err instanceof undiciErrors.HeadersTimeoutError) return 'the server did not answer in time';
  if (err instanceof undiciErrors.ConnectTimeoutError) return 'connecting timed out';
  return describeSocketError(code) ?? code;
}
