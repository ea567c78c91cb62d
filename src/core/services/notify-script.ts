import { API_AUTH_META, API_KEY_ACCOUNT, API_PASSWORD_ACCOUNT, parseAuthConfig } from '../api/auth.js';
import { loadProperties } from '../config/properties.js';
import { NbwssError } from '../errors.js';
import { W } from '../hints.js';
import { lookupFilter, pickJob, scriptEvent } from '../notify/scripts.js';
import { epochSeconds, jobChange, jobNotification } from '../poll/map.js';
import type { SecretStore } from '../secrets/index.js';
import type { EndpointStore } from '../store/db.js';
import type { EnqueueResult } from '../store/outbox.js';
import { safeText } from '../text.js';
import { credentialsFor, restClientFor } from './api.js';

export interface ScriptResult extends EnqueueResult {
  /** queued: a JOB notification is queued; already: the poller (or an earlier run) notified this state; retrying: the job tries again, nothing to say yet. */
  outcome: 'queued' | 'already' | 'retrying';
  jobId: number | null;
  state: string;
  notifications: number;
}

/**
 * A NetBackup notify script's event as a JOB notification: the job looked up
 * in the REST API (the script's arguments do not name it), queued durably,
 * and its state recorded as the poller records it, so that the poller and
 * the script never notify one state twice.
 */
export async function notifyFromScript(
  store: EndpointStore,
  secrets: SecretStore,
  name: string,
  args: readonly string[],
  options: { attempts?: number; delayMs?: number; now?: Date } = {},
): Promise<ScriptResult> {
  const ev = scriptEvent(name, args);
  const empty = { queued: [], refused: [], notifications: 0, jobId: null, state: ev.state };
  if (!ev.final) return { ...empty, outcome: 'retrying' };
  const props = loadProperties(store.home);
  const config = parseAuthConfig(store.getMeta(API_AUTH_META));
  const secret = config ? secrets.get(config.kind === 'key' ? API_KEY_ACCOUNT : API_PASSWORD_ACCOUNT) : undefined;
  if (!config || secret === undefined)
    throw new NbwssError('AUTH', `${name}: nbwss has no credentials for NetBackup's REST API, where the job is looked up`, {
      hint: `Set an API key with ${W.apiKeySet}, or log in with ${W.apiLogin}`,
    });
  const client = restClientFor(props, store);
  const creds = credentialsFor(store, props, client, config, secret);
  const query = new URLSearchParams({ filter: lookupFilter(ev), sort: '-lastUpdateTime', 'page[limit]': '20' });
  let job: Record<string, unknown> | undefined;
  try {
    const signal = AbortSignal.timeout(props['api.timeout']);
    const attempts = options.attempts ?? 5;
    for (let i = 0; i < attempts && !job; i++) {
      // The script may run a moment before the job's new state is in the primary's database.
      if (i > 0) await new Promise((r) => setTimeout(r, options.delayMs ?? 1000));
      const answer = await creds.get(`/admin/jobs?${query}`, signal);
      if (answer.status !== 200)
        throw new NbwssError('NETWORK', `${name}: looking the job up failed: ${answer.problem}`, { hint: `Check it with: ${W.apiTest}` });
      const data = (answer.json as { data?: { attributes?: Record<string, unknown> }[] } | undefined)?.data;
      job = pickJob(ev, Array.isArray(data) ? data.map((d) => d.attributes ?? {}) : []);
    }
  } finally {
    await client.close();
  }
  if (!job)
    throw new NbwssError(
      'NOT_FOUND',
      safeText(
        `${name}: no ${ev.state} ${ev.stream === -1 ? 'parent job (stream -1: a job that is its own parent)' : 'job'} of client ${ev.clientName}, policy ${ev.policyName}${ev.state === 'DONE' ? ` with status ${ev.status}` : ''} on the primary`,
      ),
      { hint: 'With api.poll.jobs on, the poller notifies the job when it sees it.' },
    );
  const mapped = jobNotification(job);
  if (!mapped.ok) throw new NbwssError('INVALID_DETAILS', `${name}: ${mapped.problem}`);
  const id = job.jobId as number;
  const now = (options.now ?? new Date()).toISOString();
  return store.write(() => {
    const change = jobChange(job.state, store.poll.jobStates([id]).get(id));
    if (!change) return { ...empty, jobId: id, outcome: 'already' as const };
    store.poll.setJobState(id, change, epochSeconds(job.lastUpdateTime) ?? Math.floor(Date.now() / 1000));
    const result = store.outbox.enqueue([mapped.notification], props['notification.maxQueued'], now);
    return { ...result, notifications: 1, jobId: id, state: change, outcome: 'queued' as const };
  });
}
