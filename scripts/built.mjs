// Run a stand-in from dist/, built once: npm run build refreshes dist/; here it is
// rebuilt only when dist/ lacks the file or a source of src/reference-endpoint/ is newer.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';

const mtime = (u) => {
  try {
    return statSync(u).mtimeMs;
  } catch {
    return -1;
  }
};

export async function runBuilt(file) {
  const out = new URL(`../dist/${file}`, import.meta.url);
  const srcDir = new URL('../src/reference-endpoint/', import.meta.url);
  const newest = Math.max(...readdirSync(srcDir).map((f) => mtime(new URL(f, srcDir))));
  if (mtime(out) < newest) {
    const r = spawnSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  await import(out.href);
}
