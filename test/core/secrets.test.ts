import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { readDetailsFile, readDetailsStream } from '../../src/core/endpoint/source.js';
import { FileSecretStore } from '../../src/core/secrets/file.js';
import { backendFor, chooseBackend, defaultKeyFile, openSecretStore, parseBackendName, requestedBackend } from '../../src/core/secrets/index.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

afterAll(cleanupTempDirs);

function store() {
  const root = tempDir('nbwss-fss-');
  const home = join(root, 'store');
  mkdirSync(home, { mode: 0o700 });
  return { home, keyFile: join(root, 'keys', 'secret.key'), s: new FileSecretStore(home, join(root, 'keys', 'secret.key')) };
}

describe('FileSecretStore', () => {
  it('set, get, delete and accounts; the file holds no token in clear', () => {
    const { home, keyFile, s } = store();
    expect(s.get('a.test')).toBeUndefined();
    expect(s.accounts()).toEqual([]);
    s.set('a.test', 'TOKEN-A');
    s.set('b.test', 'TOKEN-B');
    expect(s.get('a.test')).toBe('TOKEN-A');
    expect(s.accounts().sort()).toEqual(['a.test', 'b.test']);
    expect(s.delete('a.test')).toBe(true);
    expect(s.delete('a.test')).toBe(false);
    expect(s.accounts()).toEqual(['b.test']);
    expect(readFileSync(join(home, 'secrets.enc')).includes('TOKEN-B')).toBe(false);
    expect(readFileSync(keyFile)).toHaveLength(32);
    // A second instance (another run) reads what the first wrote.
    expect(new FileSecretStore(home, keyFile).get('b.test')).toBe('TOKEN-B');
  });

  it('putAll sets and deletes together; changing nothing leaves the file as it was', () => {
    const { home, s } = store();
    s.putAll(new Map([]));
    expect(existsSync(join(home, 'secrets.enc'))).toBe(false);
    s.putAll(
      new Map([
        ['a.test', 'A'],
        ['b.test', 'B'],
        ['c.test', 'C'],
      ]),
    );
    expect(s.accounts().sort()).toEqual(['a.test', 'b.test', 'c.test']);
    s.putAll(
      new Map([
        ['a.test', undefined],
        ['b.test', 'B2'],
        ['gone.test', undefined],
      ]),
    );
    expect(s.accounts().sort()).toEqual(['b.test', 'c.test']);
    expect(s.get('b.test')).toBe('B2');
    const before = statSync(join(home, 'secrets.enc')).ino;
    s.putAll(
      new Map([
        ['b.test', 'B2'],
        ['gone.test', undefined],
      ]),
    );
    expect(statSync(join(home, 'secrets.enc')).ino).toBe(before);
  });

  it('getMany reads the key file once for any number of accounts, and throws as get() does without the key', () => {
    const { keyFile, s } = store();
    s.putAll(new Map(Array.from({ length: 500 }, (_, i) => [`h${i}.test`, `T${i}`])));
    let keyReads = 0;
    const key = s.key.bind(s);
    Object.assign(s, {
      key: (create: boolean) => {
        keyReads++;
        return key(create);
      },
    });
    const got = s.getMany([...Array.from({ length: 500 }, (_, i) => `h${i}.test`), 'none.test']);
    expect(keyReads).toBe(1);
    expect(got.size).toBe(501);
    expect(got.get('h499.test')).toBe('T499');
    expect(got.get('none.test')).toBeUndefined();
    rmSync(keyFile);
    expect(() => s.getMany(['h1.test'])).toThrow(/secret key file .* is missing/);
    expect(() => s.get('h1.test')).toThrow(/secret key file .* is missing/);
  });

  it('putAll that only deletes creates no key', () => {
    const { keyFile, s } = store();
    s.putAll(new Map([['a.test', undefined]]));
    expect(existsSync(keyFile)).toBe(false);
  });

  it('an account named like an Object property is just an account', () => {
    const { s } = store();
    s.set('constructor', 'x');
    s.set('__proto__', 'y');
    expect(s.get('constructor')).toBe('x');
    expect(s.get('__proto__')).toBe('y');
    expect(s.get('toString')).toBeUndefined();
  });

  it('a wrong key, a key of the wrong size, a missing key and an altered file are store errors that say what to do', () => {
    const { home, keyFile, s } = store();
    s.set('a.test', 'T');
    writeFileSync(keyFile, Buffer.alloc(32, 7));
    expect(() => new FileSecretStore(home, keyFile).get('a.test')).toThrow(/cannot be decrypted with the key in/);
    writeFileSync(keyFile, Buffer.alloc(31, 7));
    expect(() => new FileSecretStore(home, keyFile).get('a.test')).toThrow(/is not a 32-byte key/);
    writeFileSync(keyFile, Buffer.alloc(33, 7));
    expect(() => new FileSecretStore(home, keyFile).get('a.test')).toThrow(/is not a 32-byte key/);
    const missing = new FileSecretStore(home, `${keyFile}.gone`);
    expect(() => missing.get('a.test')).toThrow(/is missing, so .* cannot be read/);
    expect(() => missing.probe({ create: false })).toThrow(/The secret key file .* is missing/);
  });

  it('a diagnosis (probe without create) creates no key; the first write does', () => {
    const { keyFile, s } = store();
    expect(() => s.probe({ create: false })).toThrow(/is missing/);
    expect(() => readFileSync(keyFile)).toThrow();
    s.probe();
    expect(readFileSync(keyFile)).toHaveLength(32);
  });

  it('a key file others can read is refused', () => {
    const { keyFile, s } = store();
    s.set('a.test', 'T');
    chmodSync(keyFile, 0o640);
    expect(() => s.get('a.test')).toThrow(/group or others may read it \(mode 640\)/);
  });
});

describe('choosing the secret store', () => {
  it('flag over environment over nothing; a recorded choice wins and a contrary request is refused', () => {
    expect(requestedBackend('file', { NBWSS_SECRET_STORE: 'keychain' })).toEqual({ value: 'file', source: '--secret-store' });
    expect(requestedBackend(undefined, { NBWSS_SECRET_STORE: 'keychain' })).toEqual({ value: 'keychain', source: 'NBWSS_SECRET_STORE' });
    expect(requestedBackend(undefined, {})).toBeUndefined();
    expect(backendFor(undefined, undefined, {})).toBe('keychain');
    expect(backendFor('file', undefined, {})).toBe('file');
    expect(chooseBackend(undefined, { value: 'file', source: 'x' })).toBe('file');
    expect(() => backendFor('file', 'keychain', {})).toThrow('This store keeps its tokens in the file secret store, but --secret-store asks for keychain');
    expect(() => parseBackendName('vault', 'NBWSS_SECRET_STORE')).toThrow('NBWSS_SECRET_STORE must be keychain or file, not "vault"');
  });

  it('the key file: NBWSS_SECRET_KEY_FILE, else outside the store (/etc/nbwss for root, XDG_CONFIG_HOME otherwise)', () => {
    expect(defaultKeyFile({ NBWSS_SECRET_KEY_FILE: '/k' }, 0)).toBe('/k');
    expect(defaultKeyFile({}, 0)).toBe('/etc/nbwss/secret.key');
    expect(defaultKeyFile({ XDG_CONFIG_HOME: '/cfg' }, 1000)).toBe('/cfg/nbwss/secret.key');
  });

  it('openSecretStore opens the file store for file', async () => {
    const root = tempDir('nbwss-open-');
    const s = await openSecretStore('file', { home: root, storeId: 'x', keyFile: join(root, 'k') });
    expect(s.name).toBe('file');
  });
});

describe('reading details', () => {
  it('a file others can read gives a warning (it holds a secret); a directory or a missing file is a usage error', () => {
    const dir = tempDir('nbwss-src-');
    const f = join(dir, 'd.json');
    writeFileSync(f, '{}');
    chmodSync(f, 0o644);
    const r = readDetailsFile(f);
    expect(r.bytes.toString()).toBe('{}');
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/readable by/);
    chmodSync(f, 0o600);
    expect(readDetailsFile(f).warnings).toEqual([]);
    expect(() => readDetailsFile(dir)).toThrow(/it is a directory/);
    expect(() => readDetailsFile(join(dir, 'none.json'))).toThrow(/Cannot read the endpoint details file/);
  });

  it('more than 1 MiB is refused, from a file or a stream', async () => {
    const dir = tempDir('nbwss-src-');
    const f = join(dir, 'big.json');
    writeFileSync(f, Buffer.alloc(1024 * 1024 + 1, 0x20));
    chmodSync(f, 0o600);
    expect(() => readDetailsFile(f)).toThrow(/larger than 1 MiB/);
    const stream = new PassThrough();
    stream.end(Buffer.alloc(1024 * 1024 + 1, 0x20));
    await expect(readDetailsStream(stream)).rejects.toThrow(/larger than 1 MiB/);
    const small = new PassThrough();
    small.end('{"a":1}');
    expect((await readDetailsStream(small)).bytes.toString()).toBe('{"a":1}');
  });
});

describe('the packaged service account uses the system places, as root does', () => {
  it('nbwss (a system uid) gets /var/lib/nbwss and /etc/nbwss/secret.key; another user its own; root the system places', async () => {
    const { resolveHome, usesSystemPlaces } = await import('../../src/core/config/paths.js');
    expect(resolveHome(undefined, {}, 998, () => 'nbwss')).toBe('/var/lib/nbwss');
    expect(resolveHome(undefined, { XDG_DATA_HOME: '/d' }, 1000, () => 'alice')).toBe('/d/nbwss');
    expect(resolveHome(undefined, {}, 0, () => 'root')).toBe('/var/lib/nbwss');
    expect(resolveHome(undefined, { NBWSS_HOME: '/h' }, 998, () => 'nbwss')).toBe('/h');
    expect(defaultKeyFile({}, 998, () => 'nbwss')).toBe('/etc/nbwss/secret.key');
    expect(defaultKeyFile({ XDG_CONFIG_HOME: '/cfg' }, 1000, () => 'alice')).toBe('/cfg/nbwss/secret.key');
    expect(usesSystemPlaces(-1, () => 'nbwss')).toBe(false); // no uids on this platform
  });
});
