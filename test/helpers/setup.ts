import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import { startReferenceEndpoint, type ReferenceEndpoint, type ReferenceEndpointOptions } from '../../src/reference-endpoint/index.js';
import { details, detailsFile, newHome, type Home } from './cli.js';
import { runInProcess } from './io.js';
import type { LogLine } from './daemon.js';

/**
 * What the daemon's end-to-end tests share: reference endpoints closed after
 * each test, a store with nbwss.properties, adding an endpoint with the real
 * CLI, and a JOB notification.
 */
export function useReferenceEndpoints(): (o?: Partial<ReferenceEndpointOptions>) => Promise<ReferenceEndpoint> {
  const started: ReferenceEndpoint[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((e) => e.close()));
  });
  return async (o = {}) => {
    const e = await startReferenceEndpoint({ token: 'good-token', ...o });
    started.push(e);
    return e;
  };
}

/** A store with nbwss.properties; the period is long so that only a nudge or a failover explains a quick change. */
export function homeWith(props: Record<string, string | number | boolean> = {}): Home {
  const h = newHome();
  mkdirSync(h.dir, { recursive: true, mode: 0o700 });
  const all = { 'connectionInfo.period': 60, ...props };
  writeFileSync(
    join(h.dir, 'nbwss.properties'),
    `${Object.entries(all)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`,
  );
  return h;
}

/**
 * `nbwss add --file … --yes` of an endpoint (token good-token); must succeed. A set-up step, not what these tests
 * show: in-process (add's own tests run the real CLI), which spares a Node process for each of ~250 adds a run.
 */
export async function addEndpoint(h: Home, host: string, url: string, o: { priority?: number; groupId?: string; token?: string } = {}): Promise<void> {
  const file = detailsFile(details({ hostName: host, url, priority: o.priority ?? 1, groupId: o.groupId ?? 'sg1', token: o.token ?? 'good-token' }));
  const r = await runInProcess(['add', '--file', file, '--yes'], h.env);
  expect(r.code, r.stderr).toBe(0);
}

export const connected = (host: string) => (l: LogLine) => l.msg === 'connected' && l.host === host;

/** A JOB notification as nbwss notify takes it, every guide field present. */
export const jobNotification = (jobId: number, state = 'DONE') => ({
  object: 'JOB',
  data: {
    jobId,
    parentJobId: jobId,
    jobType: 'BACKUP',
    state,
    status: 0,
    startTime: 1459829674,
    policyName: 'p',
    policyType: 'VMWARE',
    scheduleType: 'ST_FULL',
    clientName: 'c',
  },
});
