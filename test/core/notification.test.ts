import { describe, expect, it } from 'vitest';
import { buildPayload, checkData, jsonProblem, MAX_ELEMENT_BYTES, type Notification, parseNotifications } from '../../src/core/notify/notification.js';

const jobData = (jobId: number, extra: Record<string, unknown> = {}) => ({
  scheduleType: 'ST_FULL',
  clientName: 'DummyTestVM',
  status: 0,
  startTime: 1459829698,
  state: 'DONE',
  policyName: 'vmware2',
  parentJobId: 145,
  jobId,
  policyType: 'VMWARE',
  jobType: 'BACKUP',
  ...extra,
});
const imageData = (op = 'CREATE') => ({
  clientType: 'VMWARE',
  clientName: 'DummyTestVM',
  backupTime: 1459811698,
  createdTime: 1459829720,
  operationId: op,
  backupId: 'DummyTestVM_1459811698',
});

describe('jsonProblem: what JSON.parse would not carry faithfully', () => {
  it('nesting past 32 levels; numbers beyond the double range or beyond 2^53 as integers; strings are not looked into', () => {
    expect(jsonProblem(`${'['.repeat(32)}${']'.repeat(32)}`)).toBeUndefined();
    expect(jsonProblem(`${'['.repeat(33)}${']'.repeat(33)}`)).toBe('nested more than 32 deep');
    expect(jsonProblem(`${'{"a":'.repeat(40)}1${'}'.repeat(40)}`)).toBe('nested more than 32 deep');
    expect(jsonProblem('{"a":1e400}')).toContain('the number 1e400 is beyond what a JSON number holds');
    expect(jsonProblem('{"a":-1e400}')).toContain('the number -1e400 is beyond');
    expect(jsonProblem('{"a":9007199254740993}')).toContain('larger than a JSON number holds exactly (2^53)');
    expect(jsonProblem('{"a":-9007199254740993}')).toContain('larger than a JSON number holds exactly');
    expect(jsonProblem('{"a":9007199254740991,"b":-9007199254740991,"c":1.5e300,"d":0.1,"e":-0}')).toBeUndefined();
    // Inside strings, escaped quotes included: nothing counts.
    expect(jsonProblem(`{"a":"[[[[ 1e400 12345678901234567890 \\" {{{{"}`)).toBeUndefined();
    expect(jsonProblem(`{"a":"${'['.repeat(100)}"}`)).toBeUndefined();
  });

  it('parseNotifications refuses them, naming where (exit 3 in the CLI), in a document and in JSON lines', () => {
    const deep = JSON.stringify({ object: 'JOB', data: { ...jobData(1), extra: JSON.parse(`${'['.repeat(100)}${']'.repeat(100)}`) } });
    expect(() => parseNotifications(deep)).toThrow(/^input: nested more than 32 deep; nothing was queued$/);
    const big = JSON.stringify({ object: 'JOB', data: jobData(1) }).replace('"status":0', '"status":0,"n":123456789012345678');
    expect(() => parseNotifications(`${JSON.stringify({ object: 'JOB', data: jobData(2) })}\n{bad\n`)).toThrow(/line 2: not valid JSON/);
    expect(() => parseNotifications(`${JSON.stringify({ object: 'JOB', data: jobData(2) })}\n{"x":1e999}\n`)).toThrow(/^line 2: the number 1e999/);
    expect(() => parseNotifications(big)).toThrow(/the number 123456789012345678 is larger/);
  });
});

describe('parseNotifications', () => {
  it('one object, an array, JSON lines, and the guide payload element form (data as an array)', () => {
    const one = JSON.stringify({ object: 'JOB', data: jobData(1) });
    expect(parseNotifications(one)).toEqual([{ object: 'JOB', data: JSON.stringify(jobData(1)) }]);
    expect(
      parseNotifications(
        JSON.stringify([
          { object: 'JOB', data: jobData(1) },
          { object: 'IMAGE', data: imageData() },
        ]),
      ).map((n) => n.object),
    ).toEqual(['JOB', 'IMAGE']);
    expect(parseNotifications(`${one}\n\n${JSON.stringify({ object: 'JOB', data: jobData(2) })}\n`).map((n) => JSON.parse(n.data).jobId)).toEqual([1, 2]);
    const guide = JSON.stringify([{ notificationType: 'INFO', object: 'IMAGE', data: [imageData('CREATE'), imageData('UPDATE')] }]);
    expect(parseNotifications(guide).map((n) => JSON.parse(n.data).operationId)).toEqual(['CREATE', 'UPDATE']);
  });

  it('keeps the fields and their order as given, extra fields included', () => {
    const d = { ...jobData(5), kilobytes: 1024, extra: { nested: true } };
    expect(parseNotifications(JSON.stringify({ object: 'JOB', data: d }))[0]!.data).toBe(JSON.stringify(d));
  });

  it.each([
    ['', 'input: no notification given'],
    ['[]', 'input: an empty array'],
    ['{"object":"JOB"', 'line 1: not valid JSON'],
    ['7', 'the notification: a notification must be an object'],
    ['{"object":"job","data":{}}', 'the notification: object must be "JOB" or "IMAGE", not "job"'],
    [JSON.stringify({ object: 'JOB', notificationType: 'WARN', data: jobData(1) }), 'notificationType must be "INFO"'],
    [JSON.stringify({ object: 'JOB', data: [] }), 'the notification: data is an empty array'],
    [
      JSON.stringify({ object: 'JOB', data: [jobData(1), { ...jobData(2), state: 'done' }] }),
      'the notification, data[1]: data.state must be one of QUEUED, ACTIVE, DONE, not "done"',
    ],
    [JSON.stringify({ object: 'JOB', data: { ...jobData(1), jobId: -1 } }), 'data.jobId must be a whole number, 0 or more, not -1'],
    [JSON.stringify({ object: 'JOB', data: { ...jobData(1), jobId: 1.5 } }), 'data.jobId must be a whole number, 0 or more, not 1.5'],
    [JSON.stringify({ object: 'JOB', data: { ...jobData(1), status: 'x' } }), 'data.status must be a whole number, not "x"'],
    [JSON.stringify({ object: 'JOB', data: { ...jobData(1), clientName: ' ' } }), 'data.clientName must be a non-empty string, not " "'],
    [JSON.stringify({ object: 'JOB', data: { ...jobData(1), policyName: 3 } }), 'data.policyName must be a string, not 3'],
    [
      JSON.stringify({ object: 'IMAGE', data: { ...imageData(), operationId: 'MOVE' } }),
      'data.operationId must be one of CREATE, UPDATE, DELETE, NO_LOCAL_COPY_AVAILABLE',
    ],
    [JSON.stringify({ object: 'IMAGE', data: { ...imageData(), backupTime: undefined } }), 'data.backupTime is missing (a IMAGE notification has'],
    [
      JSON.stringify([
        { object: 'JOB', data: jobData(1) },
        { object: 'JOB', data: 'x' },
      ]),
      'element 2: data must be an object',
    ],
    [`${JSON.stringify({ object: 'JOB', data: jobData(1) })}\nnope`, 'line 2: not valid JSON'],
  ])('%j → %s', (input, message) => {
    let err: Error & { code?: string } = new Error('none');
    try {
      parseNotifications(input);
    } catch (e) {
      err = e as Error;
    }
    expect(err.code).toBe('INVALID_DETAILS');
    expect(err.message).toContain(message);
    expect(err.message).toMatch(/; nothing was queued$/);
  });

  it('a data element over the size bound is refused', () => {
    const big = jobData(1, { blob: 'x'.repeat(MAX_ELEMENT_BYTES) });
    expect(() => checkData('JOB', big, 'x')).toThrow(`more than ${MAX_ELEMENT_BYTES}`);
    const fits = jobData(1, { blob: 'x'.repeat(MAX_ELEMENT_BYTES - JSON.stringify(jobData(1, { blob: '' })).length) });
    expect(() => checkData('JOB', fits, 'x')).not.toThrow();
  });

  it('a long value is shortened in the message', () => {
    expect(() => checkData('JOB', { ...jobData(1), state: 'y'.repeat(100) }, 'x')).toThrow(`not "${'y'.repeat(39)}…`);
  });
});

describe('buildPayload: one NOTIFICATION REQUEST payload from pending notifications', () => {
  const j = (id: number): Notification => ({ object: 'JOB', data: JSON.stringify({ jobId: id }) });
  const i = (id: string): Notification => ({ object: 'IMAGE', data: JSON.stringify({ backupId: id }) });
  const shape = (p: string) => (JSON.parse(p) as { object: string; data: unknown[] }[]).map((e) => `${e.object}x${e.data.length}`).join(',');

  it("the guide's shape: notificationType INFO, one element per object type", () => {
    const { payload, taken } = buildPayload([j(1), j(2), i('a')]);
    expect(taken).toBe(3);
    expect(JSON.parse(payload)).toEqual([
      { notificationType: 'INFO', object: 'JOB', data: [{ jobId: 1 }, { jobId: 2 }] },
      { notificationType: 'INFO', object: 'IMAGE', data: [{ backupId: 'a' }] },
    ]);
  });

  it('order is kept: a type that would have to join an earlier element ends the batch', () => {
    const r = buildPayload([j(1), i('a'), j(2), i('b')]);
    expect(r.taken).toBe(2);
    expect(shape(r.payload)).toBe('JOBx1,IMAGEx1');
    expect(shape(buildPayload([i('a'), i('b'), j(1), j(2), i('c')]).payload)).toBe('IMAGEx2,JOBx2');
  });

  it('bounded by the number of elements and by bytes, always at least one', () => {
    const many = Array.from({ length: 250 }, (_, k) => j(k));
    expect(buildPayload(many).taken).toBe(100);
    expect(buildPayload(many, { maxElements: 7, maxBytes: 1 << 20 }).taken).toBe(7);
    const fat = (k: number): Notification => ({ object: 'JOB', data: JSON.stringify({ jobId: k, pad: 'x'.repeat(1000) }) });
    const r = buildPayload([fat(1), fat(2), fat(3)], { maxElements: 100, maxBytes: 2200 });
    expect(r.taken).toBe(2);
    expect(Buffer.byteLength(r.payload)).toBeLessThanOrEqual(2200);
    expect(buildPayload([fat(1)], { maxElements: 100, maxBytes: 10 }).taken).toBe(1);
    expect(buildPayload([], { maxElements: 100, maxBytes: 10 })).toEqual({ payload: '[]', taken: 0 });
  });
});
