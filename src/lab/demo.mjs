// nbwss lab demo (npm run demo): the main job end to end on this machine,
// touching nothing of the user's own. Bundled into dist/lab/demo.js, so that
// any installed copy (npm, tarball, .deb) can run it with its own nbwss. Starts a local wss endpoint with a throwaway self-signed
// certificate on 127.0.0.1, writes its details file, adds it with the real
// CLI into a temporary NBWSS_HOME (file secret store), starts the daemon,
// shows the entry CONNECTED; a stand-in NetBackup primary plays the guide's
// backup (examples A–G), a restore and an image deletion, which the daemon
// finds by polling the primary's REST API (API key) and delivers as
// notifications the endpoint acknowledges; the endpoint then calls the
// primary's REST API through the daemon (COMMAND, the guide's examples A–C);
// then it stops and removes everything it started.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startReferenceEndpoint } from '../reference-endpoint/index.js';
import { startNetBackupApi } from '../reference-endpoint/netbackup-api.js';
import { guideScenario, runScenario } from '../reference-endpoint/scenario.js';

// The nbwss of the copy this runs from: dist/lab/demo.js → bin/nbwss.cjs (a checkout, the npm package, the release's app/).
const bin = fileURLToPath(new URL('../../bin/nbwss.cjs', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'nbwss-demo-'));
const env = {
  ...process.env,
  NBWSS_HOME: join(root, 'store'),
  NBWSS_SECRET_STORE: 'file',
  NBWSS_SECRET_KEY_FILE: join(root, 'secret.key'),
};
const endpoint = await startReferenceEndpoint({ token: 'demo-token-change-me', host: '127.0.0.1' });
const API_KEY = `demo-${Math.random().toString(36).slice(2)}`;
const CLOUD_PASSWORD = `cloud-${Math.random().toString(36).slice(2)}`;
// The primary accepts nbwss's API key, and a user the cloud application logs in as (through COMMAND).
const restApi = await startNetBackupApi({ auth: { apiKeys: [API_KEY], users: [{ userName: 'cloudapp', password: CLOUD_PASSWORD }] } });
// The catalog before the backup: the image that the guide's example D updates.
const scenario = guideScenario();
scenario.prepare(restApi);
let daemon;
let failed = false;
try {
  const file = join(root, 'endpoint.json');
  writeFileSync(file, `${JSON.stringify(endpoint.details({ groupId: 'demo-group' }), null, 2)}\n`, { mode: 0o600 });
  console.log(`Reference endpoint on ${endpoint.url} (certificate SHA-256 ${endpoint.fingerprint})`);
  console.log(`Store: ${env.NBWSS_HOME} (file secret store)\n`);
  // Asynchronous: the endpoint runs in this process and must keep answering.
  const nbwss = async (...args) => {
    const extra = typeof args.at(-1) === 'object' ? args.pop() : {};
    const input = extra.input;
    // A secret is never shown: the demo says where an administrator would read it from.
    console.log(`$ ${extra.shown ? '' : input ? `echo '${input}' | ` : ''}nbwss ${args.join(' ')}${extra.shown ? ` < ${extra.shown}` : ''}`);
    const code = await new Promise((resolve) => {
      const child = spawn(process.execPath, [bin, ...args], { env, stdio: [input ? 'pipe' : 'inherit', 'inherit', 'inherit'] });
      if (input) child.stdin.end(`${input}\n`);
      child.on('close', resolve);
    });
    console.log('');
    if (code !== 0) {
      failed = true;
      throw new Error(`nbwss ${args[0]} exited ${code}`);
    }
  };
  await nbwss('add', '--file', file, '--fingerprint', endpoint.fingerprint);
  await nbwss('list');
  // The REST service COMMAND REQUESTs go to: here a stand-in of NetBackup's, its certificate pinned.
  await nbwss('config', 'set', 'api.baseUrl', restApi.baseUrl);
  await nbwss('api', 'pin', '--fingerprint', restApi.fingerprint);
  // Where notifications come from: the primary's jobs and images, polled with an API key (read from stdin).
  await nbwss('api', 'key', 'set', { input: API_KEY, shown: 'apikey.txt' });
  await nbwss('config', 'set', 'notification.scheduledRate', '1');
  await nbwss('config', 'set', 'api.poll.jobs', 'true');
  await nbwss('config', 'set', 'api.poll.images', 'true');
  await nbwss('api', 'test');

  console.log('$ nbwss daemon --log-stderr &');
  daemon = spawn(process.execPath, [bin, 'daemon', '--log-stderr'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  // The daemon's own word, from its JSON log lines on stderr.
  const waiters = new Set();
  let acknowledged = 0;
  createInterface({ input: daemon.stderr }).on('line', (line) => {
    let l;
    try {
      l = JSON.parse(line);
    } catch {
      return;
    }
    if (l.msg === 'notifications acknowledged') acknowledged += l.count;
    console.log(
      `  daemon: ${l.msg}${l.host ? ` ${l.host}` : ''}${l.group ? ` (group ${l.group})` : ''}${l.responseCode ? ` ${l.method} ${l.path} -> ${l.responseCode} in ${l.ms} ms` : ''}`,
    );
    for (const w of waiters) w(l);
  });
  const logged = (msg) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the daemon did not log "${msg}" within 15 s`)), 15_000);
      const w = (l) => {
        if (l.msg !== msg) return;
        clearTimeout(timer);
        waiters.delete(w);
        resolve(l);
      };
      waiters.add(w);
      daemon.on('exit', (code) => reject(new Error(`the daemon exited ${code}`)));
    });
  await Promise.all([
    logged('connected'),
    logged('job polling starts: jobs that change from now on are notified'),
    logged('image polling starts: images that appear, change or go from now on are notified'),
  ]);
  console.log('');
  await nbwss('list');

  // NOTIFICATION: NetBackup's side plays the guide's backup (examples A–G), a restore and an image
  // deletion on the stand-in primary; the daemon polls its REST API and delivers each change.
  let seen = 0;
  const WANT = [1, 1, 1, 2, 1, 1, 1, 1, 1];
  await runScenario(restApi, scenario, async (step, i) => {
    console.log(`  primary: ${step.name}`);
    const got = await endpoint.waitForNotifications(seen + WANT[i], 20_000);
    for (const n of got.slice(seen, seen + WANT[i])) {
      const d = n.data;
      const what =
        n.object === 'JOB'
          ? `JOB ${d.jobId} ${d.jobType} ${d.state} (parent ${d.parentJobId}, client ${d.clientName})`
          : `IMAGE ${d.backupId} ${d.operationId}`;
      console.log(`  endpoint: NOTIFICATION REQUEST ${n.messageId.slice(0, 8)}…: ${what}`);
    }
    seen += WANT[i];
  });
  while (acknowledged < seen) await logged('notifications acknowledged');
  console.log(`  endpoint: all ${seen} notifications received, in the guide's order, and acknowledged\n`);

  // COMMAND: the cloud application logs in to NetBackup through the connection (its own user, not nbwss's key),
  // adds a vCenter server (the guide's example A) and reads it back (example B); NetBackup answers as in example C.
  console.log('  endpoint: COMMAND REQUEST POST /netbackup/login (the cloud application logs in as its own user)');
  const loggedIn = await endpoint.command({
    uri: '/netbackup/login',
    method: 'POST',
    // Plain JSON, as Veritas's own automation logs in to 10.5–11.1 primaries (the stand-in imitates 11.0).
    headers: { 'Content-Type': 'application/json' },
    parameters: JSON.stringify({ userName: 'cloudapp', password: CLOUD_PASSWORD }),
  });
  console.log(`  endpoint: COMMAND RESPONSE ${loggedIn.payload.responseCode} (a token valid ${JSON.parse(loggedIn.payload.body).validity} s)`);
  const auth = { 'Content-Type': 'application/json', Authorization: JSON.parse(loggedIn.payload.body).token };
  console.log('  endpoint: COMMAND REQUEST POST /netbackup/config/servers/vmservers (example A)');
  const added = await endpoint.command({
    uri: '/netbackup/config/servers/vmservers',
    method: 'POST',
    headers: auth,
    parameters: JSON.stringify({
      serverName: 'vCenter2.domain.com',
      proxyServerName: '',
      vmType: 'VMWARE_VIRTUAL_CENTER_SERVER',
      userId: 'root',
      password: 'password@123',
      port: 0,
    }),
  });
  console.log(`  endpoint: COMMAND RESPONSE ${added.payload.responseCode}`);
  console.log('  endpoint: COMMAND REQUEST GET /netbackup/config/servers/vmservers/vCenter2.domain.com (example B)');
  const answer = await endpoint.command({ uri: '/netbackup/config/servers/vmservers/vCenter2.domain.com', method: 'GET', headers: auth });
  console.log(`  endpoint: COMMAND RESPONSE ${answer.payload.responseCode} ${answer.payload.body}\n`);
  await nbwss('status');
} finally {
  if (daemon && daemon.exitCode === null) {
    const exited = new Promise((resolve) => daemon.on('exit', resolve));
    daemon.kill('SIGTERM');
    await exited;
  }
  await endpoint.close();
  await restApi.close();
  rmSync(root, { recursive: true, force: true });
}
if (!failed)
  console.log(
    "Demo done: the endpoint was validated, its certificate pinned, its token stored encrypted; the daemon connected to it, polled the primary's jobs and images and delivered the guide's backup, restore and image deletion as notifications it acknowledged, and answered its REST calls.",
  );
