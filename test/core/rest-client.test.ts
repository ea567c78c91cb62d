import { getEventListeners, setMaxListeners } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { callSignal, RestClient } from '../../src/core/api/rest.js';
import { type NetBackupApi, startNetBackupApi } from '../../src/reference-endpoint/netbackup-api.js';

// The daemon's REST client: each call's signal ends with the connection or
// with api.timeout, and leaves nothing attached to the connection's signal once
// the call is over (a connection lives for days and makes millions of calls).

/** What Node's AbortSignal.any attaches to its source signals (nodejs/node#55351): absent when nothing was combined. */
function dependants(signal: AbortSignal): number {
  const sym = Object.getOwnPropertySymbols(signal).find((s) => s.description === 'kDependantSignals');
  return sym ? ((signal as unknown as Record<symbol, Set<unknown>>)[sym]?.size ?? 0) : 0;
}

describe('callSignal', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('aborts with the connection, with its reason; not a timeout', () => {
    const connection = new AbortController();
    const call = callSignal(connection.signal, 30_000);
    expect(call.signal.aborted).toBe(false);
    connection.abort(new Error('connection closed'));
    expect(call.signal.aborted).toBe(true);
    expect((call.signal.reason as Error).message).toBe('connection closed');
    expect(call.timedOut()).toBe(false);
    call.release();
  });

  it('a connection already closed: aborted from the start', () => {
    const connection = new AbortController();
    connection.abort(new Error('gone'));
    const call = callSignal(connection.signal, 30_000);
    expect(call.signal.aborted).toBe(true);
    expect(call.timedOut()).toBe(false);
    call.release();
  });

  it('aborts after the timeout, and says so; released before, it never does', () => {
    vi.useFakeTimers();
    const connection = new AbortController();
    const slow = callSignal(connection.signal, 1000);
    vi.advanceTimersByTime(999);
    expect(slow.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(slow.signal.aborted).toBe(true);
    expect(slow.timedOut()).toBe(true);
    expect((slow.signal.reason as DOMException).name).toBe('TimeoutError');
    slow.release();
    const quick = callSignal(connection.signal, 1000);
    quick.release();
    vi.advanceTimersByTime(5000);
    expect(quick.signal.aborted).toBe(false);
    expect(quick.timedOut()).toBe(false);
  });

  it('released, it leaves no listener on the connection: a later close does not reach it', () => {
    const connection = new AbortController();
    setMaxListeners(0, connection.signal); // as a connection does: one listener per call in flight
    const calls = Array.from({ length: 50 }, () => callSignal(connection.signal, 30_000));
    expect(getEventListeners(connection.signal, 'abort')).toHaveLength(50);
    for (const c of calls) c.release();
    expect(getEventListeners(connection.signal, 'abort')).toHaveLength(0);
    connection.abort();
    expect(calls.some((c) => c.signal.aborted)).toBe(false);
  });
});

describe('RestClient against the REST stand-in', () => {
  let api: NetBackupApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  it('200 calls on one long-lived connection signal leave nothing attached to it', async () => {
    api = await startNetBackupApi();
    const client = new RestClient({ baseUrl: new URL(api.baseUrl), trust: { kind: 'ca', caPem: api.certPem }, timeoutMs: 10_000, maxBodyBytes: 1 << 20 });
    const connection = new AbortController();
    try {
      for (let i = 0; i < 200; i++) {
        const r = await client.call(
          { method: 'GET', path: '/netbackup/config/servers/vmservers', headers: { authorization: 'any' }, body: undefined },
          connection.signal,
        );
        expect(r.responseCode).toBe(200);
      }
      expect(getEventListeners(connection.signal, 'abort')).toHaveLength(0);
      expect(dependants(connection.signal)).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('a call in flight when the connection closes ends at once, as unreachable (the answer is dropped by the connection)', async () => {
    let started!: () => void;
    const arrived = new Promise<void>((r) => {
      started = r;
    });
    api = await startNetBackupApi({
      handler: () => {
        started();
        return true; // never answered
      },
    });
    const client = new RestClient({ baseUrl: new URL(api.baseUrl), trust: { kind: 'ca', caPem: api.certPem }, timeoutMs: 60_000, maxBodyBytes: 1 << 20 });
    const connection = new AbortController();
    try {
      const answer = client.call({ method: 'GET', path: '/netbackup/admin/jobs', headers: {}, body: undefined }, connection.signal);
      await arrived;
      connection.abort(new Error('the connection closed'));
      const r = await answer;
      expect(r.headers['x-nbwss-error']).toBe('NBWSS_API_UNREACHABLE');
      expect(getEventListeners(connection.signal, 'abort')).toHaveLength(0);
    } finally {
      await client.close();
    }
  });

  it('a call after close() (the client was replaced meanwhile) is answered unreachable and opens no connection', async () => {
    api = await startNetBackupApi();
    const client = new RestClient({ baseUrl: new URL(api.baseUrl), trust: { kind: 'ca', caPem: api.certPem }, timeoutMs: 10_000, maxBodyBytes: 1 << 20 });
    const path = '/netbackup/config/servers/vmservers';
    expect((await client.call({ method: 'GET', path, headers: { authorization: 'any' }, body: undefined }, new AbortController().signal)).responseCode).toBe(
      200,
    );
    await client.close();
    const late = await client.call({ method: 'GET', path, headers: { authorization: 'any' }, body: undefined }, new AbortController().signal);
    expect(late.headers['x-nbwss-error']).toBe('NBWSS_API_UNREACHABLE');
    expect(late.body).toContain('the REST client is closed');
    expect(api.requests).toHaveLength(1);
  });
});
