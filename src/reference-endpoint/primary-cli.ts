// nbwss lab primary (npm run primary --) --port N [--host H] [--api-key-file FILE] [--user NAME --password-file FILE]
//   [--release 8.3|10.5|11.0|11.2] [--versions 12.0,13.0] [--jobs-paging cursor|offset] [--scenario [--step-ms MS]] [--state-dir DIR]
// A stand-in of a NetBackup primary's REST API (netbackup-api.ts) for trying
// nbwss by hand: prints api.baseUrl and the certificate's fingerprint, writes
// a fresh API key to --api-key-file (never printed), and with --scenario plays
// the guide's backup, restore and image deletion (scenario.ts).
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type PrimaryRelease, RELEASES, type ReleaseName, startNetBackupApi } from './netbackup-api.js';
import { guideScenario, runScenario } from './scenario.js';
import { keptCertificate, keptSecret } from './state.js';

const NAME = process.env.NBWSS_LAB_NAME ?? 'npm run primary --';
const USAGE = `usage: ${NAME} [--port N] [--host H] [--api-key-file FILE] [--user NAME --password-file FILE]
         [--release 8.3|10.5|11.0|11.2] [--versions V,V] [--jobs-paging cursor|offset]
         [--scenario [--step-ms MS]] [--state-dir DIR]

A stand-in of a NetBackup primary's REST API on this machine (https, a
self-signed certificate), imitating the release asked for: it prints the
api.baseUrl and certificate fingerprint to give nbwss, writes an API key to
--api-key-file (never printed), and with --scenario plays the guide's backup,
restore and image deletion, which a polling daemon delivers as notifications.

  --state-dir DIR  keep the certificate and the API key there: the same
                   identity after a restart (nbwss's pin and key still work)
`;
const fail = (why: string): never => {
  process.stderr.write(`${why}\n${USAGE}`);
  process.exit(2);
};
const OPTIONS = {
  port: { type: 'string', default: '0' },
  host: { type: 'string', default: '127.0.0.1' },
  'api-key-file': { type: 'string' },
  user: { type: 'string' },
  'password-file': { type: 'string' },
  scenario: { type: 'boolean', default: false },
  'step-ms': { type: 'string', default: '6000' },
  release: { type: 'string', default: '11.0' },
  versions: { type: 'string' },
  'jobs-paging': { type: 'string' },
  'state-dir': { type: 'string' },
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
const whole = (name: string, text: string): number => {
  if (!/^[0-9]+$/.test(text)) fail(`--${name} must be a whole number`);
  return Number(text);
};
if (values.user && !values['password-file']) fail('--user needs --password-file (a password is never taken on the command line)');
const apiKey = keptSecret(values['state-dir'], 'primary-api-key', () => randomBytes(24).toString('base64url'));
const users = values.user ? [{ userName: values.user, password: readFileSync(values['password-file']!, 'utf8').trim() }] : [];
if (!(values.release in RELEASES)) fail(`--release must be one of ${Object.keys(RELEASES).join(', ')}`);
const release: Partial<PrimaryRelease> = { ...RELEASES[values.release as ReleaseName] };
if (values.versions !== undefined) {
  const versions = values.versions.split(',').map((x) => x.trim());
  if (!versions.every((x) => /^[0-9]{1,2}\.[0-9]{1,2}$/.test(x))) fail('--versions takes API versions such as 12.0,13.0');
  release.versions = versions;
}
if (values['jobs-paging'] !== undefined) {
  if (values['jobs-paging'] !== 'cursor' && values['jobs-paging'] !== 'offset') fail('--jobs-paging is cursor or offset');
  release.jobsPaging = values['jobs-paging'] as 'cursor' | 'offset';
}
const tls = await keptCertificate(values['state-dir'], 'primary', values.host);
const primary = await startNetBackupApi({
  host: values.host,
  port: whole('port', values.port),
  auth: { apiKeys: [apiKey], users },
  release,
  ...(tls ? { tls } : {}),
});
if (values['api-key-file']) writeFileSync(values['api-key-file'], `${apiKey}\n`, { mode: 0o600 });
process.stderr.write(
  `NetBackup primary stand-in: api.baseUrl ${primary.baseUrl}\ncertificate SHA-256 ${primary.fingerprint}\n` +
    `imitates NetBackup ${values.release}: API versions ${primary.release.versions.join(', ')}, jobs paged by ${primary.release.jobsPaging}\n` +
    (values['api-key-file'] ? `API key written to ${values['api-key-file']}\n` : 'no --api-key-file: only --user logins are accepted\n'),
);
const stop = () => void primary.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
if (values.scenario) {
  const scenario = guideScenario();
  scenario.prepare(primary);
  const stepMs = whole('step-ms', values['step-ms']);
  await runScenario(primary, scenario, async (step) => {
    process.stderr.write(`scenario: ${step.name}\n`);
    await new Promise((r) => setTimeout(r, stepMs));
  });
  process.stderr.write('scenario: done\n');
}
