import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { tempDir } from './tmp.js';

export interface SecretService {
  /** Environment that puts a process on this session bus. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/**
 * A private D-Bus session bus with gnome-keyring's Secret Service on it,
 * unlocked, its keyrings in a temporary HOME. Returns why not when the
 * programs are missing (Debian: dbus-x11 gnome-keyring).
 */
export async function startSecretService(): Promise<SecretService | { unavailable: string }> {
  for (const cmd of ['dbus-daemon', 'gnome-keyring-daemon', 'dbus-send'])
    if (!has(cmd)) return { unavailable: `${cmd} is not installed (apt-get install dbus-x11 gnome-keyring)` };
  const root = tempDir('nbwss-dbus-');
  const runtime = join(root, 'run');
  mkdirSync(runtime, { mode: 0o700 });
  const base = { PATH: process.env.PATH, HOME: root, XDG_DATA_HOME: join(root, 'data'), XDG_RUNTIME_DIR: runtime, XDG_CONFIG_HOME: join(root, 'config') };
  const procs: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(
      procs.reverse().map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null || p.signalCode !== null) return resolve();
            p.once('exit', () => resolve());
            p.kill('SIGTERM');
          }),
      ),
    );
  };
  const bus = spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1'], { env: base, stdio: ['ignore', 'pipe', 'ignore'] });
  procs.push(bus);
  const address = await new Promise<string | undefined>((resolve) => {
    const rl = createInterface({ input: bus.stdout! });
    rl.once('line', (l) => resolve(l.trim()));
    bus.once('exit', () => resolve(undefined));
  });
  if (!address) {
    await stop();
    return { unavailable: 'dbus-daemon did not start' };
  }
  const env = { ...base, DBUS_SESSION_BUS_ADDRESS: address };
  const keyring = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], { env, stdio: ['pipe', 'ignore', 'ignore'] });
  procs.push(keyring);
  keyring.stdin!.end('test-password');
  // Ready when the Secret Service name has an owner: ask the bus, waiting on each answer.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await new Promise<string>((resolve) => {
      const q = spawn(
        'dbus-send',
        [
          '--session',
          '--print-reply',
          '--dest=org.freedesktop.DBus',
          '/org/freedesktop/DBus',
          'org.freedesktop.DBus.NameHasOwner',
          'string:org.freedesktop.secrets',
        ],
        { env, stdio: ['ignore', 'pipe', 'ignore'] },
      );
      let out = '';
      q.stdout!.on('data', (d) => (out += d));
      q.on('close', () => resolve(out));
    });
    if (/boolean true/.test(r)) break;
    if (keyring.exitCode !== null || Date.now() > deadline) {
      await stop();
      return { unavailable: 'gnome-keyring-daemon did not register the Secret Service' };
    }
  }
  return { env, stop };
}
