import { mkdirSync, writeFileSync } from 'node:fs';
import type { PassThrough } from 'node:stream';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import { startReferenceEndpoint, type ReferenceEndpoint, type ReferenceEndpointOptions } from '../../src/reference-endpoint/index.js';
import { main } from '../../src/cli/main.js';
import { baseEnv, details, detailsFile, newHome, type Home } from './cli.js';
import { injectedIO } from './io.js';
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
 * A CLI run that is a setup step, not what the test shows, through the CLI's main in-process (piped, `input` on
 * stdin): the commands' own tests run the real CLI (add.test.ts, poll.test.ts). A Node process for each cost ~0.13 s
 * of CPU, about 300 a run.
 */
export async function setupStep(h: Home, args: string[], input?: string): Promise<{ code: number; stderr: string }> {
  const io = injectedIO(false);
  (io.streams.stdin as PassThrough).end(input);
  const code = await main(args, io.streams, { ...baseEnv(), ...h.env });
  return { code, stderr: io.err() };
}

/** `nbwss add --file … --yes` of an endpoint (token good-token), as a setup step; must succeed. */
export async function addEndpoint(h: Home, host: string, url: string, o: { priority?: number; groupId?: string; token?: string } = {}): Promise<void> {
  const file = detailsFile(details({ hostName: host, url, priority: o.priority ?? 1, groupId: o.groupId ?? 'sg1', token: o.token ?? 'good-token' }));
  const r = await setupStep(h, ['add', '--file', file, '--yes']);
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
