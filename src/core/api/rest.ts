import { createRequire } from 'node:module';
import type { TLSSocket } from 'node:tls';
import type * as Undici from 'undici';
import { type CommandResponsePayload, flattenHeaders, type RestRequest, responseBody, syntheticResponse } from './command.js';
import { describeSocketError } from '../net-errors.js';
import { derMatchesPin } from '../tls/fingerprint.js';
import type { ApiTrust } from './trust.js';
import { W } from '../hints.js';

export interface ApiSettings {
  baseUrl: URL;
  trust: ApiTrust;
  timeoutMs: number;
  maxBodyBytes: number;
}

/**
 * undici, loaded by the first call: a daemon makes its REST client at start, and loading undici is about a third of
 * that start's CPU (measured: ~120 of ~390 ms), for a daemon that may never call the REST service.
 */
let undici: typeof Undici | undefined;
const loadUndici = (): typeof Undici => (undici ??= createRequire(import.meta.url)('undici') as typeof Undici);

class PinMismatch extends Error {
  readonly code = 'NBWSS_PIN_MISMATCH';
}
class BodyTooLarge extends Error {}

/**
 * The daemon's client of the NetBackup REST service: one connection pool
 * for every endpoint connection, scheme/host/port from api.baseUrl only, the
 * certificate checked by CA or pin before a byte of the request is sent.
 * `call` always resolves: a REST answer, or nbwss's synthetic one.
 */
export class RestClient {
  /** Made by the first call (undefined: not yet, or never: no trust). */
  private agent: Undici.Agent | undefined;
  private closed = false;

  constructor(readonly settings: ApiSettings) {}

  /** The connection pool, made on first use; undefined while the REST service's certificate is not trusted. */
  private dispatcher(): Undici.Agent | undefined {
    const trust = this.settings.trust;
    // A call that starts after close() (the client was replaced meanwhile) must not open a pool nobody closes.
    if (this.closed) throw new Error('the REST client is closed');
    if (this.agent || trust.kind === 'none') return this.agent;
    const { Agent, buildConnector } = loadUndici();
    const timeouts = { headersTimeout: this.settings.timeoutMs, bodyTimeout: this.settings.timeoutMs };
    if (trust.kind === 'ca') {
      this.agent = new Agent({ connect: { ca: trust.caPem, rejectUnauthorized: true }, ...timeouts });
    } else {
      // The pin decides, not a CA: the connection is handed to undici only once the certificate matches.
      // No TLS session resumption: a resumed session may not carry the peer's certificate, and the pin needs it on every connection.
      const base = buildConnector({ rejectUnauthorized: false, maxCachedSessions: 0 });
      this.agent = new Agent({
        ...timeouts,
        connect: (opts, cb) =>
          base(opts, (err, socket) => {
            if (err) return cb(err, null);
            const raw = (socket as TLSSocket).getPeerCertificate?.()?.raw;
            if (raw && derMatchesPin(trust.pin, raw)) return cb(null, socket);
            socket.destroy();
            cb(new PinMismatch('the REST service presents a certificate that does not match the pin'), null);
          }),
      });
    }
    return this.agent;
  }

  get origin(): string {
    return this.settings.baseUrl.origin;
  }

  /**
   * One REST call. `room`, when given, is awaited before each chunk of the answer's body is taken in: the caller's
   * back-pressure (a connection whose cloud does not read holds the REST answers back, not its memory).
   */
  async call(req: RestRequest, signal: AbortSignal, room?: (bytes: number) => Promise<void>): Promise<CommandResponsePayload> {
    let dispatcher: Undici.Agent | undefined;
    try {
      dispatcher = this.dispatcher();
    } catch (e) {
      return failure(e, this.settings.baseUrl); // undici missing from a broken install, say: an answer, never a throw
    }
    if (!dispatcher) return syntheticResponse('NBWSS_API_TLS', this.settings.trust.kind === 'none' ? this.settings.trust.why : 'not trusted');
    const { request, errors: undiciErrors } = loadUndici();
    const call = callSignal(signal, this.settings.timeoutMs);
    try {
      const res = await request(new URL(req.path, this.origin), {
        method: req.method,
        headers: req.headers,
        body: req.body,
        dispatcher,
        signal: call.signal,
      });
      const chunks: Buffer[] = [];
      let size = 0;
      try {
        for await (const c of res.body) {
          if (room) await room((c as Buffer).length);
          size += (c as Buffer).length;
          if (size > this.settings.maxBodyBytes) throw new BodyTooLarge();
          chunks.push(c as Buffer);
        }
      } catch (e) {
        res.body.destroy();
        throw e;
      }
      const { body, headers } = responseBody(Buffer.concat(chunks), flattenHeaders(res.headers));
      return { headers, responseCode: res.statusCode, body };
    } catch (e) {
      if (e instanceof BodyTooLarge)
        return syntheticResponse('NBWSS_RESPONSE_TOO_LARGE', `the REST response body is larger than api.maxBodyBytes (${this.settings.maxBodyBytes} bytes)`);
      if (call.timedOut() || e instanceof undiciErrors.HeadersTimeoutError || e instanceof undiciErrors.BodyTimeoutError)
        return syntheticResponse('NBWSS_API_TIMEOUT', `the REST service did not answer within api.timeout (${this.settings.timeoutMs} ms)`);
      return failure(e, this.settings.baseUrl);
    } finally {
      call.release();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.agent?.destroy();
  }
}

/**
 * One call's signal: aborted when `outer` is (the connection closes) or after
 * `ms`. `release()` detaches it from `outer` once the call is over. Not
 * AbortSignal.any: on Node 20 every signal it makes stays attached to the
 * long-lived `outer` until collected (nodejs/node#55351), a connection's calls
 * pile up behind it, and each costs tens of microseconds.
 */
export function callSignal(outer: AbortSignal, ms: number): { signal: AbortSignal; timedOut: () => boolean; release: () => void } {
  const controller = new AbortController();
  let timedOut = false;
  const onOuterAbort = () => controller.abort(outer.reason);
  if (outer.aborted) controller.abort(outer.reason);
  else outer.addEventListener('abort', onOuterAbort, { once: true });
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException('The REST call took longer than api.timeout', 'TimeoutError'));
  }, ms);
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    release: () => {
      clearTimeout(timer);
      outer.removeEventListener('abort', onOuterAbort);
    },
  };
}

function failure(error: unknown, base: URL): CommandResponsePayload {
  const err = error as Error & { code?: string; cause?: Error & { code?: string } };
  const code = err.code ?? err.cause?.code;
  const where = { host: base.hostname, port: Number(base.port || 443) };
  if (err instanceof PinMismatch || err.cause instanceof PinMismatch)
    return syntheticResponse('NBWSS_API_TLS', `the REST service at ${base.host} presents a certificate that does not match the pin (${W.apiPin})`);
  if (code && (/^ERR_TLS|^ERR_SSL|CERT|SELF_SIGNED|UNABLE_TO/.test(code) || code === 'DEPTH_ZERO_SELF_SIGNED_CERT'))
    return syntheticResponse('NBWSS_API_TLS', `TLS with the REST service at ${base.host} failed (${code})`);
  return syntheticResponse(
    'NBWSS_API_UNREACHABLE',
    `the REST service at ${base.host} cannot be reached: ${describeSocketError(code, where) ?? code ?? err.message}`,
  );
}
