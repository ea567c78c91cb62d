import { NbwssError } from '../errors.js';
import type { JobState } from '../poll/map.js';

/**
 * NetBackup's notify scripts (Administrator's Guide, Volume II, "NetBackup
 * notify scripts") and what nbwss makes of their documented arguments. They
 * name a client, a policy, a schedule and an exit status, never a job id, a
 * parent job or a start time, which a JOB notification carries: nbwss looks
 * the job up in the REST API (services/notify-script.ts). Pure.
 */
export const SCRIPTS = {
  /** On the primary, when an individual backup completes (each try). */
  backup_exit_notify: { args: ['clientname', 'policyname', 'schedname', 'schedtype', 'exitstatus', 'stream', 'done_trying'], state: 'DONE' },
  /** On the primary, when a parent job starts (stream is always -1). */
  parent_start_notify: { args: ['clientname', 'policyname', 'schedname', 'schedtype', 'status', 'streamnumber'], state: 'ACTIVE' },
  /** On the primary, when a parent job ends. */
  parent_end_notify: { args: ['clientname', 'policyname', 'schedname', 'schedtype', 'status', 'streamnumber'], state: 'DONE' },
} as const satisfies Record<string, { args: readonly string[]; state: JobState }>;

export type ScriptName = keyof typeof SCRIPTS;
export const SCRIPT_NAMES = Object.keys(SCRIPTS) as ScriptName[];

export interface ScriptEvent {
  script: ScriptName;
  clientName: string;
  policyName: string;
  scheduleName: string;
  scheduleType: string;
  status: number;
  stream: number;
  state: JobState;
  /** false: backup_exit_notify with done_trying 0, the job will try again (not DONE yet). */
  final: boolean;
}

const usage = (name: string, why: string) =>
  new NbwssError('USAGE', `${name}: ${why}`, {
    hint: `NetBackup calls it as: ${name} ${SCRIPTS[name as ScriptName]?.args.join(' ') ?? ''} (see contrib/notify/${name})`,
  });

/** The documented arguments of a script as an event; a USAGE error naming what is wrong. */
export function scriptEvent(name: string, args: readonly string[]): ScriptEvent {
  if (!(name in SCRIPTS))
    throw new NbwssError('USAGE', `--script ${name} is not a NetBackup notify script nbwss knows`, { hint: `One of: ${SCRIPT_NAMES.join(', ')}` });
  const script = name as ScriptName;
  const spec = SCRIPTS[script];
  if (args.length < spec.args.length) throw usage(name, `${spec.args.length} arguments expected, ${args.length} given`);
  const [clientName, policyName, scheduleName, scheduleType, status, stream, doneTrying] = args as string[];
  const int = (what: string, value: string | undefined) => {
    if (value === undefined || !/^-?[0-9]{1,9}$/.test(value)) throw usage(name, `${what} must be a whole number, not "${value ?? ''}"`);
    return Number(value);
  };
  if (!clientName) throw usage(name, 'clientname is empty');
  if (!policyName) throw usage(name, 'policyname is empty');
  return {
    script,
    clientName,
    policyName,
    scheduleName: scheduleName ?? '',
    scheduleType: scheduleType ?? '',
    status: int(spec.args[4], status),
    stream: int(spec.args[5], stream),
    state: spec.state,
    final: script === 'backup_exit_notify' ? int('done_trying', doneTrying) === 1 : true,
  };
}

/** OData's string literal: quotes doubled. */
const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;

/**
 * The REST API filter that finds the event's job among the primary's jobs.
 * The policy is checked by pickJob, not filtered: GET /admin/jobs filters
 * policyName with contains/startswith/endswith only, not eq (the filter
 * table of NetBackup 10.3–11.2's admin.yaml).
 */
export function lookupFilter(event: ScriptEvent): string {
  const parts = [`clientName eq ${lit(event.clientName)}`, `state eq ${lit(event.state)}`];
  if (event.scheduleName) parts.push(`scheduleName eq ${lit(event.scheduleName)}`);
  return parts.join(' and ');
}

/**
 * The event's job among candidates sorted most recently updated first: the
 * state it names, the exit status for an ending, a parent job for stream -1.
 */
export function pickJob(event: ScriptEvent, jobs: readonly Record<string, unknown>[]): Record<string, unknown> | undefined {
  return jobs.find((json) => {
    if (json.clientName !== event.clientName || json.policyName !== event.policyName || json.state !== event.state) return false;
    if (event.state === 'DONE' && json.status !== event.status) return false;
    if (event.stream === -1 && !(json.parentJobId === 0 || json.parentJobId === undefined || json.parentJobId === json.jobId)) return false;
    return true;
  });
}
