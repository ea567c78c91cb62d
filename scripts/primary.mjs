// npm run primary: the NetBackup primary stand-in, built once (npm run build
// refreshes it; rebuilt here only when dist/ lacks it or a source is newer).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';

const out = new URL('../dist/primary-cli.js', import.meta.url);
const mtime = (u) => {
  try {
    return statSync(u).mtimeMs;
  } catch {
    return -1;
  }
};
const srcDir = new URL('../src/reference-endpoint/', import.meta.url);
const newest = Math.max(...readdirSync(srcDir).map((f) => mtime(new URL(f, srcDir))));
if (mtime(out) < newest) {
  const r = spawnSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
await import(out.href);
