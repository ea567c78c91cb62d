import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './tmp.js';

export interface Cert {
  key: string;
  cert: string;
  keyPath: string;
  certPath: string;
  /** openssl-style SHA-256 fingerprint: AB:CD:... */
  fingerprint: string;
}

let n = 0;

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * A certificate made with openssl for the test: self-signed, or signed by
 * `ca`. `days` < 0 makes one that has already expired; `keyFrom` reuses a key
 * (a renewal that keeps the key).
 */
export function makeCert(opts: { cn?: string; sans?: string; days?: number; ca?: Cert; isCa?: boolean; keyFrom?: Cert } = {}): Cert {
  const dir = tempDir('nbwss-cert-');
  const id = `c${n++}`;
  const keyPath = join(dir, `${id}.key`);
  const certPath = join(dir, `${id}.pem`);
  const cn = opts.cn ?? 'localhost';
  const sans = opts.sans ?? 'DNS:localhost,IP:127.0.0.1,IP:::1';
  if (opts.keyFrom) writeFileSync(keyPath, opts.keyFrom.key);
  else openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', keyPath], dir);
  const days = opts.days ?? 90;
  const ext = join(dir, `${id}.ext`);
  writeFileSync(
    ext,
    opts.isCa ? 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' : `subjectAltName=${sans}\nbasicConstraints=CA:FALSE\n`,
  );
  const csr = join(dir, `${id}.csr`);
  openssl(['req', '-new', '-key', keyPath, '-subj', `/CN=${cn}`, '-out', csr], dir);
  if (days <= 0) throw new Error('makeCert makes valid certificates; use makeExpiredCert');
  const dates = ['-days', String(days)];
  if (opts.ca)
    openssl(
      [
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        opts.ca.certPath,
        '-CAkey',
        opts.ca.keyPath,
        '-set_serial',
        String(1000 + n),
        '-extfile',
        ext,
        ...dates,
        '-out',
        certPath,
      ],
      dir,
    );
  else openssl(['x509', '-req', '-in', csr, '-key', keyPath, '-set_serial', String(1000 + n), '-extfile', ext, ...dates, '-out', certPath], dir);
  const cert = readFileSync(certPath, 'utf8');
  const fp = new X509Certificate(cert).fingerprint256;
  return { key: readFileSync(keyPath, 'utf8'), cert, keyPath, certPath, fingerprint: fp };
}

/** A self-signed certificate that expired a month ago (openssl 3.0 cannot back-date one). */
export async function makeExpiredCert(): Promise<Cert> {
  const { generate } = await import('selfsigned');
  const day = 86_400_000;
  const r = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    notBeforeDate: new Date(Date.now() - 60 * day),
    notAfterDate: new Date(Date.now() - 30 * day),
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  const dir = tempDir('nbwss-cert-');
  const keyPath = join(dir, 'expired.key');
  const certPath = join(dir, 'expired.pem');
  writeFileSync(keyPath, r.private);
  writeFileSync(certPath, r.cert);
  return { key: r.private, cert: r.cert, keyPath, certPath, fingerprint: new X509Certificate(r.cert).fingerprint256 };
}
