import { describe, expect, it } from 'vitest';
import {
  diffImages,
  digest,
  epochSeconds,
  guidePolicyType,
  guideScheduleType,
  imageNotification,
  imagesFilter,
  jobChange,
  jobNotification,
  type WatchedImage,
  watchedImage,
} from '../../src/core/poll/map.js';
import { parseFilter, query } from '../../src/reference-endpoint/query.js';

const apiJob = {
  jobId: 146,
  parentJobId: 145,
  jobType: 'BACKUP',
  policyType: 'VMware',
  policyName: 'vmware2',
  scheduleType: 'FULL',
  clientName: 'DummyTestVM',
  state: 'DONE',
  status: 0,
  startTime: '2016-04-05T04:14:58.000Z',
  lastUpdateTime: '2016-04-05T04:15:20.000Z',
  kilobytesTransferred: 12,
};

describe('jobs: from the API to the guide', () => {
  it('maps a job to the guide example E, field for field and in its order', () => {
    const m = jobNotification(apiJob);
    expect(m.ok).toBe(true);
    if (!m.ok) return;
    expect(m.notification.object).toBe('JOB');
    expect(m.notification.data).toBe(
      '{"scheduleType":"ST_FULL","clientName":"DummyTestVM","status":0,"startTime":1459829698,"state":"DONE","policyName":"vmware2","parentJobId":145,"jobId":146,"policyType":"VMWARE","jobType":"BACKUP"}',
    );
  });

  it('a job without a parent (0 or absent) is its own parent, as the guide parent job is', () => {
    for (const parentJobId of [0, undefined]) {
      const m = jobNotification({ ...apiJob, jobId: 144, parentJobId });
      expect(m.ok && JSON.parse(m.notification.data).parentJobId).toBe(144);
    }
  });

  it('a job lacking a field the guide requires is not notified, and says which', () => {
    const m = jobNotification({ ...apiJob, clientName: '' });
    expect(m).toEqual({ ok: false, problem: expect.stringContaining('data.clientName must be a non-empty string') });
    const t = jobNotification({ ...apiJob, startTime: 'yesterday' });
    expect(t.ok).toBe(false);
  });

  it('the words: schedule types get ST_, policy types are upper case with underscores', () => {
    expect(guideScheduleType('FULL')).toBe('ST_FULL');
    expect(guideScheduleType('DIFF_INCR')).toBe('ST_DIFF_INCR');
    expect(guideScheduleType('ST_CINC')).toBe('ST_CINC');
    expect(guideScheduleType('user backup')).toBe('ST_USER_BACKUP');
    expect(guideScheduleType(undefined)).toBe('ST_FULL');
    expect(guidePolicyType('VMware')).toBe('VMWARE');
    expect(guidePolicyType('MS-Windows')).toBe('MS_WINDOWS');
    expect(guidePolicyType(' Standard ')).toBe('STANDARD');
    expect(guidePolicyType('')).toBe('STANDARD');
  });

  it('epoch seconds from ISO 8601 or numbers; nothing from what is not a time', () => {
    expect(epochSeconds('2016-04-05T04:14:34.000Z')).toBe(1459829674);
    expect(epochSeconds('2016-04-05T04:14:34.999Z')).toBe(1459829674);
    expect(epochSeconds(1459829674.7)).toBe(1459829674);
    for (const v of ['', 'soon', null, undefined, -1, Number.NaN, '1969-12-31T23:59:59Z']) expect(epochSeconds(v)).toBeUndefined();
  });

  it('the change rule: QUEUED, ACTIVE and DONE when they differ from the last notified; never after DONE; other states not at all', () => {
    expect(jobChange('QUEUED', undefined)).toBe('QUEUED');
    expect(jobChange('ACTIVE', 'QUEUED')).toBe('ACTIVE');
    expect(jobChange('ACTIVE', 'ACTIVE')).toBeUndefined();
    expect(jobChange('QUEUED', 'ACTIVE')).toBe('QUEUED'); // requeued
    expect(jobChange('DONE', 'ACTIVE')).toBe('DONE');
    expect(jobChange('DONE', undefined)).toBe('DONE');
    expect(jobChange('DONE', 'DONE')).toBeUndefined();
    expect(jobChange('ACTIVE', 'DONE')).toBeUndefined();
    for (const s of ['WAITING_FOR_RETRY', 'SUSPENDED', 'INCOMPLETE', 'RE_QUEUED', '', 7, undefined]) expect(jobChange(s, 'ACTIVE')).toBeUndefined();
  });
});

const img = (backupId: string, backupTime: number, d = 'a'): WatchedImage => ({ backupId, backupTime, clientName: 'c', clientType: 'VMWARE', digest: d });

describe('images: what changed, and how it is notified', () => {
  it('an image: its client type from clientType, else the policy type; CREATE in the guide example D field order', () => {
    const w = watchedImage({ backupId: 'DummyTestVM_1459811698', clientName: 'DummyTestVM', backupTime: '2016-04-04T23:14:58Z', policyType: 'VMware' })!;
    expect(w.clientType).toBe('VMWARE');
    expect(watchedImage({ backupId: 'x', clientName: 'c', backupTime: 1, clientType: 'Hyper-V', policyType: 'VMware' })!.clientType).toBe('HYPER_V');
    const n = imageNotification(w, 'CREATE', 1459829720);
    expect(n.ok && n.notification.data).toBe(
      '{"clientType":"VMWARE","clientName":"DummyTestVM","backupTime":1459811698,"createdTime":1459829720,"operationId":"CREATE","backupId":"DummyTestVM_1459811698"}',
    );
    for (const bad of [
      { clientName: 'c', backupTime: 1 },
      { backupId: 'x', backupTime: 1 },
      { backupId: 'x', clientName: 'c', backupTime: 'never' },
    ])
      expect(watchedImage(bad)).toBeUndefined();
  });

  it('the digest does not depend on key order, and changes with any value', () => {
    expect(digest({ a: 1, b: { c: 2, d: [1, 2] } })).toBe(digest({ b: { d: [1, 2], c: 2 }, a: 1 }));
    expect(digest({ a: 1, b: { c: 2 } })).not.toBe(digest({ a: 1, b: { c: 3 } }));
    expect(digest({ a: [1, 2] })).not.toBe(digest({ a: [2, 1] }));
  });

  it('created, updated, missing; an image older than the window is forgotten, not deleted; a cut-short listing misses nothing', () => {
    const known = new Map([img('old', 50), img('same', 150), img('changed', 160), img('gone', 170)].map((i) => [i.backupId, i]));
    const listed = [img('same', 150), img('changed', 160, 'b'), img('new', 180), img('new', 180)];
    const d = diffImages(listed, known, 100, true);
    expect(d.created.map((i) => i.backupId)).toEqual(['new']);
    expect(d.updated.map((i) => i.backupId)).toEqual(['changed']);
    expect(d.missing.map((i) => i.backupId)).toEqual(['gone']);
    expect(diffImages(listed, known, 100, false).missing).toEqual([]);
  });
});

describe("the stand-in primary's query language", () => {
  const rows = [
    { jobId: 1, state: 'DONE', clientName: "o'brien", t: '2026-01-01T00:00:02.000Z' },
    { jobId: 2, state: 'ACTIVE', clientName: 'b', t: '2026-01-01T00:00:01.000Z' },
    { jobId: 3, state: 'DONE', clientName: 'c', t: '2026-01-01T00:00:03.000Z' },
  ];
  const q = (s: string) => query(rows, new URL(`https://x/netbackup/admin/jobs?${s}`), ['jobId', 'state', 'clientName', 't']);

  it('filters with and-joined comparisons, quoted strings with doubled quotes, times and numbers', () => {
    expect(parseFilter("state eq 'DONE' and jobId gt 1")).toEqual([
      { field: 'state', op: 'eq', value: 'DONE' },
      { field: 'jobId', op: 'gt', value: 1 },
    ]);
    expect(q(`filter=${encodeURIComponent("clientName eq 'o''brien'")}`).items.map((r) => r.jobId)).toEqual([1]);
    expect(q(`filter=${encodeURIComponent('t ge 2026-01-01T00:00:02.000Z')}`).items.map((r) => r.jobId)).toEqual([1, 3]);
    expect(() => parseFilter("state eq 'DONE' or jobId eq 1")).toThrow(/only "and"/);
    expect(() => q(`filter=${encodeURIComponent("nope eq 'x'")}`)).toThrow(/Unknown filter field nope/);
  });

  it('sorts by several keys, descending with -, and pages with JSON:API links', () => {
    expect(q('sort=-state,t').items.map((r) => r.jobId)).toEqual([1, 3, 2]);
    const p = q('sort=jobId&page[limit]=2&page[offset]=0');
    expect(p.items.map((r) => r.jobId)).toEqual([1, 2]);
    expect(p.meta.pagination).toMatchObject({ count: 3, offset: 0, limit: 2, next: 2, last: 2, pages: 2 });
    expect(p.links.next!.href).toContain('page%5Boffset%5D=2');
    const last = q('sort=jobId&page[limit]=2&page[offset]=2');
    expect(last.items.map((r) => r.jobId)).toEqual([3]);
    expect(last.meta.pagination.next).toBeUndefined();
    expect(() => q('page[limit]=0')).toThrow(/between 1 and 1000/);
  });

  it('cursor pages (page[after]) walk the whole order once, ties broken by id; each filter its own selection; a changed collection answered anew', () => {
    const jobs = [5, 3, 9, 1, 7, 2, 8].map((jobId) => ({ jobId, state: 'DONE', clientName: 'c', t: `2026-01-01T00:00:0${jobId % 3}.000Z` }));
    const fields = ['jobId', 'state', 'clientName', 't'];
    const page = (all: typeof jobs, s: string) => query(all, new URL(`https://x/netbackup/admin/jobs?${s}`), fields, { paging: 'cursor', idField: 'jobId' });
    const walk = (all: typeof jobs, filter: string) => {
      const seen: number[] = [];
      let after = '';
      for (let i = 0; i < 10; i++) {
        const p = page(all, `filter=${encodeURIComponent(filter)}&sort=t&page[limit]=2${after ? `&page[after]=${after}` : ''}`);
        seen.push(...p.items.map((r) => r.jobId));
        if (!p.meta.pagination.next) return seen;
        after = String(p.meta.pagination.next);
      }
      throw new Error('paging did not end');
    };
    // t is jobId % 3 seconds: (0: 3, 9), (1: 1, 7), (2: 2, 5, 8).
    expect(walk(jobs, 'jobId gt 0')).toEqual([3, 9, 1, 7, 2, 5, 8]);
    expect(walk(jobs, 'jobId gt 4')).toEqual([9, 7, 5, 8]);
    expect(walk(jobs, 'jobId gt 0')).toEqual([3, 9, 1, 7, 2, 5, 8]);
    // As the stand-in does when a job changes: a new array, read afresh.
    const changed = jobs.map((j) => (j.jobId === 9 ? { ...j, t: '2026-01-01T00:00:05.000Z' } : j));
    expect(walk(changed, 'jobId gt 0')).toEqual([3, 1, 7, 2, 5, 8, 9]);
  });
});

describe('notify scripts: their documented arguments', () => {
  it('backup_exit_notify: seven arguments; done_trying 0 is not final; numbers checked', async () => {
    const { scriptEvent } = await import('../../src/core/notify/scripts.js');
    expect(scriptEvent('backup_exit_notify', ['c1', 'pol_prod', 'sched_fulls', 'FULL', '0', '-1', '1'])).toEqual({
      script: 'backup_exit_notify',
      clientName: 'c1',
      policyName: 'pol_prod',
      scheduleName: 'sched_fulls',
      scheduleType: 'FULL',
      status: 0,
      stream: -1,
      state: 'DONE',
      final: true,
    });
    expect(scriptEvent('backup_exit_notify', ['c2', 'pol_prod', 'sched_incr', 'INCR', '73', '0', '0']).final).toBe(false);
    expect(scriptEvent('parent_start_notify', ['c', 'p', 's', 'FULL', '0', '-1'])).toMatchObject({ state: 'ACTIVE', final: true, stream: -1 });
    expect(() => scriptEvent('backup_exit_notify', ['c', 'p'])).toThrow(/7 arguments expected, 2 given/);
    expect(() => scriptEvent('backup_exit_notify', ['c', 'p', 's', 'FULL', 'x', '0', '1'])).toThrow(/exitstatus must be a whole number, not "x"/);
    expect(() => scriptEvent('bpend_notify', ['c'])).toThrow(/not a NetBackup notify script nbwss knows/);
  });

  it('the lookup filter doubles quotes; the pick wants the state, the status for an ending and a parent for stream -1', async () => {
    const { lookupFilter, pickJob, scriptEvent } = await import('../../src/core/notify/scripts.js');
    const ev = scriptEvent('backup_exit_notify', ["o'brien", 'p', '', 'FULL', '0', '-1', '1']);
    // policyName takes contains/startswith/endswith only, not eq (admin.yaml 10.3–11.2): pickJob checks the policy.
    expect(lookupFilter(ev)).toBe("clientName eq 'o''brien' and state eq 'DONE'");
    const jobs = [
      { jobId: 9, parentJobId: 8, clientName: "o'brien", policyName: 'p', state: 'DONE', status: 0 }, // a child: not for stream -1
      { jobId: 7, parentJobId: 7, clientName: "o'brien", policyName: 'p', state: 'DONE', status: 1 }, // another status
      { jobId: 5, parentJobId: 0, clientName: "o'brien", policyName: 'p', state: 'DONE', status: 0 },
    ];
    expect(pickJob(ev, jobs)?.jobId).toBe(5);
    expect(pickJob(scriptEvent('backup_exit_notify', ["o'brien", 'p', '', 'FULL', '0', '0', '1']), jobs)?.jobId).toBe(9);
    expect(pickJob(ev, [{ ...jobs[2], state: 'ACTIVE' }])).toBeUndefined();
  });
});

describe('the images filter', () => {
  it('asks for the window from its start on', () => {
    expect(imagesFilter(1_000_000)).toBe(`backupTime ge ${new Date(1_000_000_000).toISOString()}`);
  });
});

describe('mapping edges', () => {
  it('times at and around the epoch, words with runs of separators, missing optional fields', () => {
    expect(epochSeconds(0)).toBe(0);
    expect(epochSeconds('1970-01-01T00:00:00.000Z')).toBe(0);
    expect(epochSeconds('1970-01-01T00:00:01.000Z')).toBe(1);
    // Jobs of 10.3–11.2 say FULL_BACKUP where images say FULL (admin.yaml / catalog.yaml enums): one guide word, ST_FULL.
    expect(guideScheduleType('full - backup')).toBe('ST_FULL');
    expect(guideScheduleType('FULL_BACKUP')).toBe('ST_FULL');
    expect(guideScheduleType('CUMULATIVE_INCREMENTAL_BACKUP')).toBe('ST_CUMULATIVE_INCREMENTAL');
    expect(guideScheduleType('USER_BACKUP')).toBe('ST_USER_BACKUP');
    expect(guideScheduleType('USER_ARCHIVE')).toBe('ST_USER_ARCHIVE');
    expect(guidePolicyType('-VMware-')).toBe('VMWARE');
    expect(guidePolicyType('MS - Windows')).toBe('MS_WINDOWS');
    expect(guidePolicyType(undefined)).toBe('STANDARD');
    const m = jobNotification({ ...apiJob, status: 58, policyName: undefined, parentJobId: '5' });
    expect(m.ok && JSON.parse(m.notification.data)).toMatchObject({ status: 58, policyName: '', parentJobId: 146 });
    const noStatus = jobNotification({ ...apiJob, status: undefined });
    expect(noStatus.ok && JSON.parse(noStatus.notification.data).status).toBe(0);
    const bad = jobNotification({ ...apiJob, jobType: '' });
    expect(bad).toEqual({ ok: false, problem: 'job 146: data.jobType must be a non-empty string, not ""' });
  });

  it('images: an empty id is none; an empty clientType falls back to the policy type; the window edge is inside it', () => {
    expect(watchedImage({ backupId: '', clientName: 'c', backupTime: 1 })).toBeUndefined();
    expect(watchedImage({ backupId: 'x', clientName: 'c', backupTime: 1, clientType: '', policyType: 'Oracle' })!.clientType).toBe('ORACLE');
    const edge = img('edge', 100);
    expect(diffImages([], new Map([[edge.backupId, edge]]), 100, true).missing).toEqual([edge]);
    const bad = imageNotification({ ...edge, clientName: '' }, 'DELETE', 5);
    expect(bad).toEqual({ ok: false, problem: 'image edge: data.clientName must be a non-empty string, not ""' });
  });
});

describe('notify script edges', () => {
  it('usage errors are USAGE with the documented arguments; empty names and half numbers are refused', async () => {
    const { scriptEvent } = await import('../../src/core/notify/scripts.js');
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as { code: string; message: string; hint?: string };
      }
      throw new Error('no error');
    };
    const e = err(() => scriptEvent('parent_end_notify', ['c']));
    expect(e.code).toBe('USAGE');
    expect(e.hint).toBe(
      'NetBackup calls it as: parent_end_notify clientname policyname schedname schedtype status streamnumber (see contrib/notify/parent_end_notify)',
    );
    const unknown = err(() => scriptEvent('bpstart_notify', []));
    expect(unknown).toMatchObject({ code: 'USAGE', hint: 'One of: backup_exit_notify, parent_start_notify, parent_end_notify' });
    expect(err(() => scriptEvent('backup_exit_notify', ['', 'p', 's', 'FULL', '0', '0', '1'])).message).toBe('backup_exit_notify: clientname is empty');
    expect(err(() => scriptEvent('backup_exit_notify', ['c', '', 's', 'FULL', '0', '0', '1'])).message).toBe('backup_exit_notify: policyname is empty');
    for (const v of ['1x', 'x1', '', '1234567890'])
      expect(err(() => scriptEvent('backup_exit_notify', ['c', 'p', 's', 'FULL', v, '0', '1'])).message).toContain(
        `exitstatus must be a whole number, not "${v}"`,
      );
    expect(err(() => scriptEvent('backup_exit_notify', ['c', 'p', 's', 'FULL', '0', '0', 'y'])).message).toContain(
      'done_trying must be a whole number, not "y"',
    );
  });

  it('the filter names the schedule when there is one; the pick checks client, policy, state, status only for an ending, and the parent', async () => {
    const { lookupFilter, pickJob, scriptEvent } = await import('../../src/core/notify/scripts.js');
    const done = scriptEvent('backup_exit_notify', ['c', 'p', "it's", 'FULL', '0', '0', '1']);
    expect(lookupFilter(done)).toBe("clientName eq 'c' and state eq 'DONE' and scheduleName eq 'it''s'");
    const base = { jobId: 1, parentJobId: 0, clientName: 'c', policyName: 'p', state: 'DONE', status: 0 };
    expect(pickJob(done, [{ ...base, clientName: 'd' }])).toBeUndefined();
    expect(pickJob(done, [{ ...base, policyName: 'q' }])).toBeUndefined();
    expect(pickJob(done, [{ ...base, status: 2 }])).toBeUndefined();
    const start = scriptEvent('parent_start_notify', ['c', 'p', 's', 'FULL', '0', '-1']);
    expect(pickJob(start, [{ ...base, state: 'ACTIVE', status: 99 }])?.jobId).toBe(1); // no status while running
    expect(pickJob(start, [{ ...base, state: 'ACTIVE', parentJobId: undefined }])?.jobId).toBe(1);
    expect(pickJob(start, [{ ...base, state: 'ACTIVE', parentJobId: 1 }])?.jobId).toBe(1);
    expect(pickJob(start, [{ ...base, state: 'ACTIVE', parentJobId: 2 }])).toBeUndefined();
  });
});

describe('the poller’s tables are bounded whatever times the primary gives (a real SQLite store)', () => {
  it('capJobs keeps the most recently updated job states, capImages the newest images; counts says how many', async () => {
    const { join } = await import('node:path');
    const { EndpointStore } = await import('../../src/core/store/db.js');
    const { tempDir, cleanupTempDirs } = await import('../helpers/tmp.js');
    const store = EndpointStore.open(join(tempDir(), 'store'));
    try {
      // Jobs dated far in the future: pruning by the primary's own times would never remove them.
      store.write(() => {
        for (let i = 1; i <= 3000; i++) store.poll.setJobState(i, 'DONE', 253_402_214_400 + (i % 7));
        for (let i = 1; i <= 300; i++)
          store.poll.setImage({ backupId: `img_${i}`, backupTime: 1_700_000_000 + i, clientName: 'c', clientType: 'STANDARD', digest: 'd' });
      });
      expect(store.poll.counts()).toEqual({ jobs: 3000, images: 300 });
      expect(store.write(() => store.poll.capJobs(1000))).toBe(2000);
      expect(store.write(() => store.poll.capImages(100))).toBe(200);
      expect(store.poll.counts()).toEqual({ jobs: 1000, images: 100 });
      // The newest kept: every job of the last two update seconds (428 each), then the highest ids of the one before.
      const kept = [...store.poll.jobStates(Array.from({ length: 3000 }, (_, i) => i + 1)).keys()];
      const bySecond = (r: number) => kept.filter((id) => id % 7 === r);
      expect([bySecond(6).length, bySecond(5).length, bySecond(4).length, kept.length]).toEqual([428, 428, 144, 1000]);
      const fourth = Array.from({ length: 3000 }, (_, i) => i + 1).filter((id) => id % 7 === 4);
      expect(bySecond(4)).toEqual(fourth.slice(-144));
      expect([...store.poll.images(0).keys()].sort()).toEqual(Array.from({ length: 100 }, (_, i) => `img_${i + 201}`).sort());
      // Under the cap nothing goes.
      expect(store.write(() => store.poll.capJobs(1000))).toBe(0);
    } finally {
      store.close();
      cleanupTempDirs();
    }
  });
});
