// nbwss lab endpoint (npm run endpoint --): the reference cloud endpoint, for watching the system work.
// Prints one line per message received (CONNECT, each NOTIFICATION, each COMMAND RESPONSE) on stdout; a line typed
// on stdin is sent as a COMMAND REQUEST to the connected daemon ("GET /netbackup/admin/jobs", or a JSON payload).
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { safeText } from '../core/text.js';
import { type ReceivedMessage, startReferenceEndpoint } from './index.js';
import { keptCertificate, keptSecret } from './state.js';

const NAME = process.env.NBWSS_LAB_NAME ?? 'npm run endpoint --';
const USAGE = `usage: ${NAME} [--token T (or NBWSS_ENDPOINT_TOKEN=T)] [--port N] [--host H] [--state-dir DIR]
         [--details FILE [--host-name NAME] [--group ID] [--priority N]] [--cert-days N]
         [--reject-token] [--silent-to-pings] [--quiet]

A WebSocket endpoint as a cloud application would run one, on this machine:
it answers the daemon's CONNECT (checking the token), acknowledges every
NOTIFICATION, and prints one line per message it receives. A line typed on
stdin is sent to the connected daemon as a COMMAND REQUEST:
  GET /netbackup/admin/jobs?page[limit]=1
  POST /netbackup/login {"userName":"u","password":"p"}
  {"uri":"/netbackup/admin/jobs","method":"GET","headers":{}}   (the guide's payload)

  --token T        the token the daemon must present (without it and without
                   --state-dir, one is made up; --details writes it)
  --state-dir DIR  keep the certificate and the token there: the same identity
                   after a restart (nbwss's pin still matches)
  --details FILE   write the endpoint details file nbwss add --file reads
  --quiet          print nothing per message
`;
const fail = (why: string): never => {
  process.stderr.write(`${why}\n${USAGE}`);
  process.exit(2);
};
const OPTIONS = {
  port: { type: 'string', default: '0' },
  host: { type: 'string', default: '127.0.0.1' },
  token: { type: 'string' },
  'state-dir': { type: 'string' },
  'reject-token': { type: 'boolean', default: false },
  'silent-to-pings': { type: 'boolean', default: false },
  details: { type: 'string' },
  'host-name': { type: 'string' },
  group: { type: 'string' },
  priority: { type: 'string' },
  'cert-days': { type: 'string' },
  quiet: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;
function parse() {
  try {
    return parseArgs({ options: OPTIONS }).values;
  } catch (e) {
    return fail((e as Error).message);
  }
}
const values = parse();
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const whole = (name: string, text: string | undefined, min: number): number | undefined => {
  if (text === undefined) return undefined;
  if (!/^[0-9]+$/.test(text) || Number(text) < min) fail(`--${name} must be a whole number of ${min} or more`);
  return Number(text);
};
const stateDir = values['state-dir'];
const given = values.token ?? process.env.NBWSS_ENDPOINT_TOKEN;
const token =
  given ?? (stateDir || values.details ? keptSecret(stateDir, 'endpoint-token', () => `lab-${randomUUID()}`) : undefined) ?? fail('--token is missing');
const port = whole('port', values.port, 0);
const priority = whole('priority', values.priority, 0);
const certDays = whole('cert-days', values['cert-days'], 1);
const tls = await keptCertificate(stateDir, 'endpoint', values.host, certDays);

/** One line per message, what a person watching wants to see; text from the daemon through the one sanitiser. */
function describe(message: ReceivedMessage): string {
  const id = typeof message.id === 'string' ? ` ${safeText(message.id).slice(0, 8)}` : '';
  const head = `${safeText(String(message.type ?? '?'))} ${safeText(String(message.subType ?? '?'))}${id}`;
  if (message.type === 'CONNECT')
    return `${head}: token ${(message.payload as { token?: string } | undefined)?.token === token && !values['reject-token'] ? 'accepted' : 'refused'}`;
  if (message.type === 'NOTIFICATION' && Array.isArray(message.payload)) {
    const items = (message.payload as { object?: string; notificationType?: string; data?: Record<string, unknown>[] }[]).flatMap((event) =>
      (event.data ?? []).map((data) =>
        event.object === 'JOB'
          ? `JOB ${data.jobId} ${data.jobType ?? ''} ${data.state ?? ''}`.replace(/ +/g, ' ').trim()
          : `IMAGE ${data.backupId} ${data.operationId ?? ''}`.trim(),
      ),
    );
    return `${head}: ${items.length} notification${items.length === 1 ? '' : 's'}: ${safeText(items.slice(0, 3).join(', '))}${items.length > 3 ? ', …' : ''}`;
  }
  if (message.type === 'COMMAND' && message.subType === 'RESPONSE') {
    const payload = (message.payload ?? {}) as { responseCode?: number; body?: string };
    return `${head}: ${payload.responseCode} ${safeText(String(payload.body ?? '')).slice(0, 200)}`;
  }
  return head;
}

const ep = await startReferenceEndpoint({
  port,
  host: values.host,
  token,
  rejectToken: values['reject-token'],
  silentToPings: values['silent-to-pings'],
  certDays,
  ...(tls ? { tls } : {}),
  ...(values.quiet ? {} : { onMessage: (m) => process.stdout.write(`${describe(m)}\n`) }),
});
if (values.details) {
  const details = ep.details({ hostName: values['host-name'], groupId: values.group, priority });
  writeFileSync(values.details, `${JSON.stringify(details, null, 2)}\n`, { mode: 0o600 });
}
process.stderr.write(
  `reference endpoint listening on ${ep.url}\ncertificate SHA-256 ${ep.fingerprint}\n${values.details ? `details written to ${values.details}\n` : ''}type a COMMAND (GET /netbackup/admin/jobs) and Enter to send it to the connected daemon\n`,
);

/** A typed line as a COMMAND payload: METHOD /uri [JSON body], or the guide's payload as JSON. */
function commandOf(line: string): Record<string, unknown> | string {
  const text = line.trim();
  if (text.startsWith('{')) {
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch (e) {
      return `not JSON: ${(e as Error).message}`;
    }
  }
  const match = /^([A-Za-z]+)\s+(\S+)(?:\s+(.+))?$/.exec(text);
  if (!match) return 'type METHOD /uri [JSON body], e.g. GET /netbackup/admin/jobs';
  return { uri: match[2], method: match[1]!.toUpperCase(), headers: { 'Content-Type': 'application/json' }, ...(match[3] ? { parameters: match[3] } : {}) };
}
createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return;
  const payload = commandOf(line);
  if (typeof payload === 'string') return void process.stderr.write(`${payload}\n`);
  process.stdout.write(`COMMAND REQUEST sent: ${safeText(String(payload.method))} ${safeText(String(payload.uri))}\n`);
  ep.command(payload, { timeoutMs: 60_000 }).catch((e: Error) => process.stderr.write(`COMMAND not answered: ${safeText(e.message)}\n`));
});
const stop = () => void ep.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
