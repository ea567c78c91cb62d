import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from './context.js';

/**
 * Run a stand-in of nbwss lab as a child on this Node, in the foreground, with
 * the terminal; Ctrl-C and SIGTERM go to it. Resolves with its exit code (0
 * when it was stopped by either).
 */
export function runStandIn(name: string, args: string[], ctx: Context): Promise<number> {
  // dist/cli.cjs and dist/lab/ sit side by side in every copy (a checkout, the npm package, the release's app/).
  const file = join(dirname(fileURLToPath(import.meta.url)), 'lab', `${name}.js`);
  const child = spawn(process.execPath, [file, ...args], { stdio: 'inherit', env: { ...ctx.env, NBWSS_LAB_NAME: `nbwss lab ${name}` } });
  const onInt = () => child.kill('SIGINT');
  const onTerm = () => child.kill('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return new Promise<number>((resolve) => {
    const done = (code: number) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(code);
    };
    child.on('error', (err) => {
      ctx.io.stderr.write(`nbwss lab ${name}: ${err.message}\n`);
      done(1);
    });
    child.on('exit', (c, sig) => done(c ?? (sig === 'SIGINT' || sig === 'SIGTERM' ? 0 : 1)));
  });
}
