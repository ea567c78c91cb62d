import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addEndpoints } from '../../src/core/services/add.js';
import { FileSecretStore } from '../../src/core/secrets/file.js';
import { EndpointStore } from '../../src/core/store/db.js';
import type { PresentedCertificate } from '../../src/core/tls/fetch.js';
import { makeCert } from '../helpers/certs.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { X509Certificate } from 'node:crypto';
import { summarize } from '../../src/core/tls/fetch.js';

afterAll(cleanupTempDirs);

describe('addEndpoints (a real SQLite store and file secret store, an injected fetch)', () => {
  it('fetches at most 16 certificates at a time, however many endpoints a document names', async () => {
    const root = tempDir('nbwss-svc-');
    const store = EndpointStore.open(join(root, 'store'));
    const secrets = new FileSecretStore(join(root, 'store'), join(root, 'secret.key'));
    const cert = makeCert();
    const presented: PresentedCertificate = {
      ...summarize(new X509Certificate(cert.cert)),
      pem: cert.cert,
      chain: [],
      trusted: false,
      trustError: undefined,
      hostnameMatches: true,
    };
    let inFlight = 0;
    let most = 0;
    const fetch = async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      return presented;
    };
    const endpoints = Array.from({ length: 100 }, (_, i) => ({
      token: `t${i}`,
      priority: 1,
      groupId: 'g',
      hostName: `h${i}.test`,
      url: `wss://127.0.0.1:1/${i}`,
    }));
    const added = await addEndpoints({ store, secrets, endpoints, accept: async () => true, fetch });
    expect(added).toHaveLength(100);
    expect(most).toBe(16);
    store.close();
  });
});
