// npm run demo: the main job end to end on this machine, touching nothing of
// the user's own. Starts a local wss endpoint with a throwaway self-signed
// certificate on 127.0.0.1, writes its details file, adds it with the real
// CLI into a temporary NBWSS_HOME (file secret store), starts the daemon,
// shows the entry CONNECTED, then stops everything it started.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startReferenceEndpoint } from '../dist/reference-endpoint.js';

const bin = fileURLToPath(new URL('../bin/nbwss.cjs', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'nbwss-demo-'));
const env = {
  ...process.env,
  NBWSS_HOME: join(root, 'store'),
  NBWSS_SECRET_STORE: 'file',
  NBWSS_SECRET_KEY_FILE: join(root, 'secret.key'),
};
const endpoint = await startReferenceEndpoint({ token: 'demo-token-change-me', host: '127.0.0.1' });
let daemon;
let failed = false;
try {
  const file = join(root, 'endpoint.json');
  writeFileSync(file, `${JSON.stringify(endpoint.details({ groupId: 'demo-group' }), null, 2)}\n`, { mode: 0o600 });
  console.log(`Reference endpoint on ${endpoint.url} (certificate SHA-256 ${endpoint.fingerprint})`);
  console.log(`Store: ${env.NBWSS_HOME} (file secret store)\n`);
  // Asynchronous: the endpoint runs in this process and must keep answering.
  const nbwss = async (...args) => {
    console.log(`$ nbwss ${args.join(' ')}`);
    const code = await new Promise((resolve) => spawn(process.execPath, [bin, ...args], { env, stdio: 'inherit' }).on('close', resolve));
    console.log('');
    if (code !== 0) {
      failed = true;
      throw new Error(`nbwss ${args[0]} exited ${code}`);
    }
  };
  await nbwss('add', '--file', file, '--fingerprint', endpoint.fingerprint);
  await nbwss('list');

  console.log('$ nbwss daemon --log-stderr &');
  daemon = spawn(process.execPath, [bin, 'daemon', '--log-stderr'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  // Wait for the daemon's own word that it connected (its JSON log lines on stderr).
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the daemon did not connect within 15 s')), 15_000);
    createInterface({ input: daemon.stderr }).on('line', (line) => {
      let l;
      try {
        l = JSON.parse(line);
      } catch {
        return;
      }
      console.log(`  daemon: ${l.msg}${l.host ? ` ${l.host}` : ''}`);
      if (l.msg === 'connected') {
        clearTimeout(timer);
        resolve();
      }
    });
    daemon.on('exit', (code) => reject(new Error(`the daemon exited ${code}`)));
  });
  console.log('');
  await nbwss('list');
  await nbwss('status');
} finally {
  if (daemon && daemon.exitCode === null) {
    const exited = new Promise((resolve) => daemon.on('exit', resolve));
    daemon.kill('SIGTERM');
    await exited;
  }
  await endpoint.close();
  rmSync(root, { recursive: true, force: true });
}
if (!failed) console.log('Demo done: the endpoint was validated, its certificate pinned, its token stored encrypted, and the daemon connected to it.');
