// npm run demo: the main job end to end on this machine, touching nothing of
// the user's own. Starts a local wss endpoint with a throwaway self-signed
// certificate on 127.0.0.1, writes its details file, adds it with the real
// CLI into a temporary NBWSS_HOME (file secret store), starts the daemon,
// shows the entry CONNECTED, queues a job notification that the endpoint
// receives and acknowledges, lets the endpoint call a stand-in of the
// NetBackup REST API through the daemon (COMMAND), then stops everything it
// started.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startReferenceEndpoint } from '../dist/reference-endpoint.js';
import { startNetBackupApi } from '../dist/netbackup-api.js';

const bin = fileURLToPath(new URL('../bin/nbwss.cjs', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'nbwss-demo-'));
const env = {
  ...process.env,
  NBWSS_HOME: join(root, 'store'),
  NBWSS_SECRET_STORE: 'file',
  NBWSS_SECRET_KEY_FILE: join(root, 'secret.key'),
};
const endpoint = await startReferenceEndpoint({ token: 'demo-token-change-me', host: '127.0.0.1' });
const restApi = await startNetBackupApi();
let daemon;
let failed = false;
try {
  const file = join(root, 'endpoint.json');
  writeFileSync(file, `${JSON.stringify(endpoint.details({ groupId: 'demo-group' }), null, 2)}\n`, { mode: 0o600 });
  console.log(`Reference endpoint on ${endpoint.url} (certificate SHA-256 ${endpoint.fingerprint})`);
  console.log(`Store: ${env.NBWSS_HOME} (file secret store)\n`);
  // Asynchronous: the endpoint runs in this process and must keep answering.
  const nbwss = async (...args) => {
    const input = typeof args.at(-1) === 'object' ? args.pop().input : undefined;
    console.log(`$ ${input ? `echo '${input}' | ` : ''}nbwss ${args.join(' ')}`);
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

  console.log('$ nbwss daemon --log-stderr &');
  daemon = spawn(process.execPath, [bin, 'daemon', '--log-stderr'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  // The daemon's own word, from its JSON log lines on stderr.
  const waiters = new Set();
  createInterface({ input: daemon.stderr }).on('line', (line) => {
    let l;
    try {
      l = JSON.parse(line);
    } catch {
      return;
    }
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
  await logged('connected');
  console.log('');
  await nbwss('list');

  // NOTIFICATION: a backup job done (the guide's example E), delivered and acknowledged.
  const jobDone = {
    object: 'JOB',
    data: {
      scheduleType: 'ST_FULL',
      clientName: 'DummyTestVM',
      status: 0,
      startTime: 1459829698,
      state: 'DONE',
      policyName: 'vmware2',
      parentJobId: 145,
      jobId: 146,
      policyType: 'VMWARE',
      jobType: 'BACKUP',
    },
  };
  const acknowledged = logged('notifications acknowledged');
  await nbwss('notify', { input: JSON.stringify(jobDone) });
  await acknowledged;
  const sent = endpoint.received.find((m) => m.type === 'NOTIFICATION');
  console.log(
    `  endpoint: received NOTIFICATION REQUEST ${sent.id} (${sent.payload[0].object} job ${sent.payload[0].data[0].jobId} ${sent.payload[0].data[0].state}) and acknowledged it\n`,
  );

  // COMMAND: the cloud application reads NetBackup's vCenter servers through the connection.
  console.log('  endpoint: COMMAND REQUEST GET /netbackup/config/servers/vmservers');
  const answer = await endpoint.command({ uri: '/netbackup/config/servers/vmservers', method: 'GET', headers: { Authorization: 'demo-jwt' } });
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
    'Demo done: the endpoint was validated, its certificate pinned, its token stored encrypted; the daemon connected to it, delivered a notification it acknowledged, and answered its REST call.',
  );
