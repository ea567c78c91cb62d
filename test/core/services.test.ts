import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NbwssError } from '../../src/core/errors.js';
import { FileSecretStore } from '../../src/core/secrets/file.js';
import type { SecretStore } from '../../src/core/secrets/types.js';
import { addEndpoints } from '../../src/core/services/add.js';
import { repinEndpoint } from '../../src/core/services/certs.js';
import { deleteEndpoints, setEndpointState, setToken } from '../../src/core/services/endpoints.js';
import { EndpointStore } from '../../src/core/store/db.js';
import { type PresentedCertificate, summarize } from '../../src/core/tls/fetch.js';
import { makeCert } from '../helpers/certs.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

// The core services, fast and in-process: a real SQLite store and file secret
// store in a temporary directory, an injected certificate fetch.

afterAll(cleanupTempDirs);

const presented = (pem: string): PresentedCertificate => ({
  ...summarize(new X509Certificate(pem)),
  pem,
  chain: [],
  trusted: false,
  trustError: undefined,
  hostnameMatches: true,
});

function fixture() {
  const root = tempDir('nbwss-svc-');
  const store = EndpointStore.open(join(root, 'store'));
  const secrets = new FileSecretStore(join(root, 'store'), join(root, 'secret.key'));
  return { store, secrets };
}

async function seed(store: EndpointStore, secrets: SecretStore, pem: string, hosts: string[]) {
  const endpoints = hosts.map((h, i) => ({ token: `t-${h}`, priority: i + 1, groupId: 'g', hostName: h, url: `wss://127.0.0.1:1/${i}` }));
  return addEndpoints({ store, secrets, endpoints, accept: async () => true, fetch: async () => presented(pem) });
}

describe('addEndpoints', () => {
  it('fetches at most 16 certificates at a time, however many endpoints a document names', async () => {
    const { store, secrets } = fixture();
    const cert = makeCert();
    let inFlight = 0;
    let most = 0;
    const fetch = async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      return presented(cert.cert);
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

  it('1,000 tokens into the file secret store: its file is encrypted and replaced once, not once per token', async () => {
    const { store, secrets } = fixture();
    let writes = 0;
    const write = (secrets as unknown as { write: (...a: unknown[]) => void }).write.bind(secrets);
    Object.assign(secrets, {
      write: (...a: unknown[]) => {
        writes++;
        write(...a);
      },
    });
    const cert = makeCert();
    const hosts = Array.from({ length: 1000 }, (_, i) => `h${i}.test`);
    await seed(store, secrets, cert.cert, hosts);
    expect(writes).toBe(1);
    expect(secrets.accounts()).toHaveLength(1000);
    expect(new FileSecretStore(secrets.home, secrets.keyFile).get('h999.test')).toBe('t-h999.test');
    store.close();
  });

  it('a secret store that fails half-way through the tokens (a keychain takes them one by one): no entry saved, every token as before', async () => {
    const { store, secrets } = fixture();
    const cert = makeCert();
    await seed(store, secrets, cert.cert, ['old.test']);
    let sets = 0;
    const oneByOne: SecretStore = {
      name: 'file',
      probe: () => {},
      get: (a) => secrets.get(a),
      getMany: (accounts) => secrets.getMany(accounts),
      set: (a, v) => {
        if (++sets === 3) throw new NbwssError('STORE', 'the keychain refused the request');
        secrets.set(a, v);
      },
      delete: (a) => secrets.delete(a),
      accounts: () => secrets.accounts(),
      putAll(changes) {
        for (const [a, v] of changes) v === undefined ? this.delete(a) : this.set(a, v);
      },
    };
    const endpoints = ['new1.test', 'old.test', 'new2.test'].map((h) => ({
      token: `replaced-${h}`,
      priority: 1,
      groupId: h,
      hostName: h,
      url: 'wss://127.0.0.1:1/x',
    }));
    await expect(
      addEndpoints({ store, secrets: oneByOne, endpoints, replace: true, accept: async () => true, fetch: async () => presented(cert.cert) }),
    ).rejects.toMatchObject({
      code: 'STORE',
    });
    expect(store.endpoints.list().map((e) => e.hostName)).toEqual(['old.test']);
    expect(store.endpoints.get('old.test')!.groupId).toBe('g');
    expect(secrets.accounts()).toEqual(['old.test']);
    expect(secrets.get('old.test')).toBe('t-old.test');
    store.close();
  });

  it('a certificate that is not accepted saves nothing, no entry and no token', async () => {
    const { store, secrets } = fixture();
    const cert = makeCert();
    const endpoints = [{ token: 't', priority: 1, groupId: 'g', hostName: 'a.test', url: 'wss://127.0.0.1:1/x' }];
    await expect(addEndpoints({ store, secrets, endpoints, accept: async () => false, fetch: async () => presented(cert.cert) })).rejects.toMatchObject({
      code: 'CERTIFICATE',
    });
    expect(store.endpoints.list()).toEqual([]);
    expect(secrets.accounts()).toEqual([]);
    store.close();
  });
});

describe('deleteEndpoints, setEndpointState, setToken', () => {
  it('delete removes entries and tokens; an unknown host deletes nothing (NOT_FOUND)', async () => {
    const { store, secrets } = fixture();
    await seed(store, secrets, makeCert().cert, ['a.test', 'b.test']);
    await expect(async () => deleteEndpoints(store, secrets, ['a.test', 'nope.test'])).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(store.endpoints.list().map((e) => e.hostName)).toEqual(['a.test', 'b.test']);
    expect(deleteEndpoints(store, secrets, ['A.TEST.'])).toEqual({ removed: ['a.test'] });
    expect(secrets.accounts()).toEqual(['b.test']);
    store.close();
  });

  it('delete whose secret store fails after the entries are gone reports the tokens left', async () => {
    const { store, secrets } = fixture();
    await seed(store, secrets, makeCert().cert, ['a.test']);
    const failing: SecretStore = {
      ...secrets,
      name: 'file',
      probe: () => {},
      get: () => undefined,
      getMany: () => new Map(),
      set: () => {},
      accounts: () => [],
      delete: () => {
        throw new NbwssError('STORE', 'the secret store is away');
      },
      putAll: () => {
        throw new NbwssError('STORE', 'the secret store is away');
      },
    };
    const r = deleteEndpoints(store, failing, ['a.test']);
    expect(r.removed).toEqual(['a.test']);
    expect(r.tokensLeft?.message).toBe('the secret store is away');
    expect(store.endpoints.list()).toEqual([]);
    store.close();
  });

  it('activate and deactivate say whether they changed anything', async () => {
    const { store, secrets } = fixture();
    await seed(store, secrets, makeCert().cert, ['a.test']);
    expect(setEndpointState(store, ['a.test'], 'DEACTIVATED')).toEqual([{ hostName: 'a.test', state: 'DEACTIVATED', changed: true }]);
    expect(setEndpointState(store, ['a.test'], 'DEACTIVATED')).toEqual([{ hostName: 'a.test', state: 'DEACTIVATED', changed: false }]);
    store.close();
  });

  it('setToken replaces the token of a saved host, refuses one the details rules refuse, and an unknown host', async () => {
    const { store, secrets } = fixture();
    await seed(store, secrets, makeCert().cert, ['a.test']);
    expect(await setToken(store, secrets, 'A.test', 'new-token')).toBe('a.test');
    expect(secrets.get('a.test')).toBe('new-token');
    await expect(setToken(store, secrets, 'a.test', "it's")).rejects.toMatchObject({ code: 'INVALID_DETAILS' });
    await expect(setToken(store, secrets, 'nope.test', 'x')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(secrets.get('a.test')).toBe('new-token');
    store.close();
  });
});

describe('repinEndpoint', () => {
  it('nothing to do when the pinned certificate is still presented: not asked, not written', async () => {
    const { store, secrets } = fixture();
    const cert = makeCert();
    await seed(store, secrets, cert.cert, ['a.test']);
    let asked = 0;
    const r = await repinEndpoint(store, 'a.test', {
      fetch: async () => presented(cert.cert),
      accept: async () => {
        asked++;
        return true;
      },
    });
    expect(r.changed).toBe(false);
    expect(asked).toBe(0);
    store.close();
  });

  it('a renewed certificate: asked, then pinned; declined: the pin is unchanged', async () => {
    const { store, secrets } = fixture();
    const old = makeCert();
    const renewed = makeCert();
    await seed(store, secrets, old.cert, ['a.test']);
    await expect(repinEndpoint(store, 'a.test', { fetch: async () => presented(renewed.cert), accept: async () => false })).rejects.toMatchObject({
      code: 'CERTIFICATE',
    });
    expect(store.endpoints.get('a.test')!.fingerprint).toBe(old.fingerprint);
    const r = await repinEndpoint(store, 'a.test', { fetch: async () => presented(renewed.cert), accept: async () => true });
    expect(r).toMatchObject({ changed: true, before: { fingerprint: old.fingerprint }, after: { fingerprint: renewed.fingerprint }, samePublicKey: false });
    expect(store.endpoints.get('a.test')!.fingerprint).toBe(renewed.fingerprint);
    store.close();
  });
});
