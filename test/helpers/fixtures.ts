import { afterAll, beforeAll } from 'vitest';
import { makeCert, type Cert } from './certs.js';
import { startTlsServer, type TlsServer } from './servers.js';
import { cleanupTempDirs } from './tmp.js';

/**
 * A TLS endpoint on loopback for a whole test file, with a certificate made
 * for it: started before the tests, closed after them (temporary files too).
 */
export function useTlsEndpoint(): { readonly cert: Cert; readonly server: TlsServer } {
  const f = {} as { cert: Cert; server: TlsServer };
  beforeAll(async () => {
    f.cert = makeCert();
    f.server = await startTlsServer(f.cert);
  });
  afterAll(async () => {
    await f.server?.close();
    cleanupTempDirs();
  });
  return f;
}
