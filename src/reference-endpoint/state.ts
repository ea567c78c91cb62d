import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { throwawayCertificate } from './index.js';

/**
 * A stand-in's identity kept across restarts (nbwss lab … --state-dir DIR):
 * the same certificate (so the pin nbwss took still matches) and the same
 * secrets. Made on first use, 0600 in a 0700 directory.
 */
export async function keptCertificate(dir: string | undefined, name: string, host: string, days?: number): Promise<{ key: string; cert: string } | undefined> {
  if (!dir) return undefined;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyFile = join(dir, `${name}-key.pem`);
  const certFile = join(dir, `${name}-cert.pem`);
  if (existsSync(keyFile) && existsSync(certFile)) return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') };
  const tls = await throwawayCertificate(host, days);
  writeFileSync(keyFile, tls.key, { mode: 0o600 });
  writeFileSync(certFile, tls.cert, { mode: 0o644 });
  return tls;
}

/** A secret kept in DIR/file, made by `make` the first time. */
export function keptSecret(dir: string | undefined, file: string, make: () => string): string {
  if (!dir) return make();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, file);
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const value = make();
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  return value;
}
