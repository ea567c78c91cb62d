// npm run endpoint -- --port N --token T [--host H] [--reject-token] [--silent-to-pings]
//   [--details FILE [--host-name NAME] [--group ID] [--priority N]] [--cert-days N]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startReferenceEndpoint } from './index.js';

const USAGE =
  'usage: npm run endpoint -- --port N --token T (or NBWSS_ENDPOINT_TOKEN=T) [--host H] [--reject-token] [--silent-to-pings]\n' +
  '         [--details FILE [--host-name NAME] [--group ID] [--priority N]] [--cert-days N]\n';
const fail = (why: string): never => {
  process.stderr.write(`${why}\n${USAGE}`);
  process.exit(2);
};
const OPTIONS = {
  port: { type: 'string', default: '0' },
  host: { type: 'string', default: '127.0.0.1' },
  token: { type: 'string' },
  'reject-token': { type: 'boolean', default: false },
  'silent-to-pings': { type: 'boolean', default: false },
  details: { type: 'string' },
  'host-name': { type: 'string' },
  group: { type: 'string' },
  priority: { type: 'string' },
  'cert-days': { type: 'string' },
} as const;
function parse() {
  try {
    return parseArgs({ options: OPTIONS }).values;
  } catch (e) {
    return fail((e as Error).message);
  }
}
const v = parse();
const whole = (name: string, s: string | undefined, min: number): number | undefined => {
  if (s === undefined) return undefined;
  if (!/^[0-9]+$/.test(s) || Number(s) < min) fail(`--${name} must be a whole number of ${min} or more`);
  return Number(s);
};
const token = v.token ?? process.env.NBWSS_ENDPOINT_TOKEN;
if (!token) fail('--token is missing');
const port = whole('port', v.port, 0);
const priority = whole('priority', v.priority, 0);
const certDays = whole('cert-days', v['cert-days'], 1);
const ep = await startReferenceEndpoint({ port, host: v.host, token: token!, rejectToken: v['reject-token'], silentToPings: v['silent-to-pings'], certDays });
if (v.details) {
  const details = ep.details({ hostName: v['host-name'], groupId: v.group, priority });
  writeFileSync(v.details, `${JSON.stringify(details, null, 2)}\n`, { mode: 0o600 });
}
process.stderr.write(`reference endpoint listening on ${ep.url}\ncertificate SHA-256 ${ep.fingerprint}\n`);
const stop = () => void ep.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
