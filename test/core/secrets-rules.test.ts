import { existsSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSecretStore, SECRETS_FILE } from '../../src/core/secrets/file.js';
import { backendFor, chooseBackend, defaultKeyFile, openSecretStore, parseBackendName, requestedBackend } from '../../src/core/secrets/index.js';
import { rejection } from '../helpers/rejection.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

// The secret stores' rejections, word for word (code, message, hint: what is wrong and how to fix it), the choice of
// store, and the file format, in-process against real files. test/core/secrets.test.ts covers the happy paths;
// the e2e suites show the same words through the CLI.

afterAll(cleanupTempDirs);

function fileStore() {
  const root = tempDir('nbwss-secrets-');
  const home = join(root, 'store');
  mkdirSync(home, { mode: 0o700 });
  const keyFile = join(root, 'keys', 'secret.key');
  return { root, home, keyFile, store: new FileSecretStore(home, keyFile) };
}

describe('the file secret store refuses, saying what is wrong and what to do', () => {
  it('a key file that is a symbolic link', () => {
    const { root, keyFile, store } = fileStore();
    mkdirSync(join(root, 'keys'));
    writeFileSync(join(root, 'real.key'), Buffer.alloc(32, 1), { mode: 0o600 });
    symlinkSync(join(root, 'real.key'), keyFile);
    expect(rejection(() => store.get('a.test'))).toEqual({
      code: 'STORE',
      message: `Refusing to use ${keyFile}: it is a symbolic link`,
      hint: 'Point NBWSS_SECRET_KEY_FILE at the key file itself.',
    });
  });

  it('a key file that is not a file (a directory)', () => {
    const { keyFile, store } = fileStore();
    mkdirSync(keyFile, { recursive: true });
    expect(rejection(() => store.get('a.test'))).toEqual({
      code: 'STORE',
      message: `Refusing to use ${keyFile}: it is not a regular file`,
      hint: 'Point it at the 32-byte key file nbwss created.',
    });
  });

  it('a key of the wrong size', () => {
    const { keyFile, store } = fileStore();
    mkdirSync(join(keyFile, '..'), { recursive: true });
    writeFileSync(keyFile, Buffer.alloc(16, 1), { mode: 0o600 });
    expect(rejection(() => store.get('a.test'))).toEqual({
      code: 'STORE',
      message: `The secret key file ${keyFile} is not a 32-byte key`,
      hint: 'Restore the key file from your backup; without it the stored tokens cannot be read.',
    });
  });

  it('a missing key: with tokens stored, restore it; with none, the first add makes it', () => {
    const { home, keyFile, store } = fileStore();
    expect(rejection(() => store.probe({ create: false }))).toEqual({
      code: 'STORE',
      message: `The secret key file ${keyFile} is missing`,
      hint: 'It is created by the first add that stores a token.',
    });
    store.set('a.test', 'T');
    const elsewhere = new FileSecretStore(home, `${keyFile}.moved`);
    expect(rejection(() => elsewhere.probe({ create: false }))).toEqual({
      code: 'STORE',
      message: `The secret key file ${keyFile}.moved is missing`,
      hint: 'Restore it from your backup (or point NBWSS_SECRET_KEY_FILE at it); without it the stored tokens cannot be read.',
    });
    expect(rejection(() => elsewhere.get('a.test'))).toEqual({
      code: 'STORE',
      message: `The secret key file ${keyFile}.moved is missing, so ${join(home, SECRETS_FILE)} cannot be read`,
      hint: 'Restore the key file, or point NBWSS_SECRET_KEY_FILE at it.',
    });
  });

  it('a file that is not a secrets file, or a key that is not its key', () => {
    const { home, keyFile, store } = fileStore();
    store.set('a.test', 'T');
    const wrongKey = `${keyFile}.other`;
    writeFileSync(wrongKey, Buffer.alloc(32, 9), { mode: 0o600 });
    const expected = {
      code: 'STORE',
      message: `${join(home, SECRETS_FILE)} cannot be decrypted with the key in ${wrongKey}`,
      hint: 'The key file does not belong to this store, or the file was altered. Restore both from the same backup.',
    };
    expect(rejection(() => new FileSecretStore(home, wrongKey).get('a.test'))).toEqual(expected);
    writeFileSync(join(home, SECRETS_FILE), '{"secrets":{"a.test":"T"}}', { mode: 0o600 });
    expect(rejection(() => new FileSecretStore(home, wrongKey).get('a.test'))).toEqual(expected);
  });

  it('a key file whose directory is a file: it cannot be read', () => {
    const { root, home } = fileStore();
    writeFileSync(join(root, 'not-a-dir'), 'x');
    const keyFile = join(root, 'not-a-dir', 'secret.key');
    const { code, message, hint } = rejection(() => new FileSecretStore(home, keyFile).set('a.test', 'T'));
    expect(code).toBe('STORE');
    expect(message).toMatch(new RegExp(`^Cannot read the secret key file ${keyFile}: ENOTDIR`));
    expect(hint).toBe('Check the permissions of NBWSS_HOME and of the key file (NBWSS_SECRET_KEY_FILE).');
  });

  it('a key file where no file can be made (/proc, even for root): it cannot be created, and nothing is stored', () => {
    const { home } = fileStore();
    const keyFile = '/proc/self/nbwss-secret.key';
    const store = new FileSecretStore(home, keyFile);
    const { code, message, hint } = rejection(() => store.set('a.test', 'T'));
    expect(code).toBe('STORE');
    expect(message).toMatch(new RegExp(`^Cannot create the secret key file ${keyFile}: `));
    expect(hint).toBe('Check the permissions of NBWSS_HOME and of the key file (NBWSS_SECRET_KEY_FILE).');
    expect(existsSync(join(home, SECRETS_FILE))).toBe(false);
  });
});

describe('the file secret store: format and reading', () => {
  // Written by nbwss with the key 0x11 × 32 (AES-256-GCM, "NBWSSv1\0" header as additional data): a store made by an
  // earlier nbwss must stay readable.
  const WRITTEN_BEFORE = 'TkJXU1N2MQBnowcps0O+amkcBGvRu7wbTsPV2kxoO/qk2csrOAATpU+SKIOQH7J4YURrM4kl81v+r0P21D9AyxUOTI07TRbKpUA8MOMHvoD339aPeDYI';

  it('reads a secrets file written by an earlier nbwss', () => {
    const { home, keyFile } = fileStore();
    mkdirSync(join(keyFile, '..'), { recursive: true });
    writeFileSync(keyFile, Buffer.alloc(32, 0x11), { mode: 0o600 });
    writeFileSync(join(home, SECRETS_FILE), Buffer.from(WRITTEN_BEFORE, 'base64'), { mode: 0o600 });
    const store = new FileSecretStore(home, keyFile);
    expect(store.get('cloud.example.com')).toBe('tok-1.2.3');
    expect(store.accounts()).toEqual(['cloud.example.com']);
  });

  it('what another process writes is read at once (the cache follows the file)', () => {
    const { home, keyFile, store } = fileStore();
    store.set('a.test', 'ONE');
    expect(store.get('a.test')).toBe('ONE');
    const other = new FileSecretStore(home, keyFile);
    other.set('a.test', 'TWO');
    expect(store.get('a.test')).toBe('TWO');
    other.set('a.test', 'TWO-LONGER');
    expect(store.getMany(['a.test']).get('a.test')).toBe('TWO-LONGER');
  });

  it('reading (get, getMany, accounts) and deleting never create a key', () => {
    const { keyFile, store } = fileStore();
    expect(store.accounts()).toEqual([]);
    expect(store.getMany(['a.test']).get('a.test')).toBeUndefined();
    expect(store.delete('a.test')).toBe(false);
    expect(existsSync(keyFile)).toBe(false);
  });

  it('putAll that deletes one and stores another on a new store creates the key and stores it', () => {
    const { keyFile, store } = fileStore();
    store.putAll(
      new Map([
        ['gone.test', undefined],
        ['a.test', 'T'],
      ]),
    );
    expect(statSync(keyFile).size).toBe(32);
    expect(store.accounts()).toEqual(['a.test']);
  });

  it('putAll with a token to store creates the key; putAll of nothing does nothing at all', () => {
    const { home, keyFile, store } = fileStore();
    store.putAll(new Map());
    expect(existsSync(join(home, 'secrets.lock'))).toBe(false);
    store.putAll(new Map([['a.test', 'T']]));
    expect(statSync(keyFile).size).toBe(32);
    expect(store.get('a.test')).toBe('T');
  });
});

describe('which secret store a run uses', () => {
  it('a shared store with nothing recorded or asked: the file scheme (its tokens are sealed in the database)', () => {
    expect(backendFor(undefined, undefined, {}, true, 1000)).toBe('file');
    expect(backendFor(undefined, 'keychain', {}, true, 1000)).toBe('keychain');
    expect(backendFor('keychain', undefined, {}, true, 1000)).toBe('keychain');
  });

  it('the packaged service account (no login session, no keychain): the file store; another user: the keychain', () => {
    expect(backendFor(undefined, undefined, {}, false, 998, () => 'nbwss')).toBe('file');
    expect(backendFor(undefined, undefined, {}, false, 1000, () => 'alice')).toBe('keychain');
    expect(backendFor(undefined, undefined, {}, false, 0, () => 'nbwss')).toBe('keychain');
    expect(backendFor(undefined, 'keychain', {}, false, 998, () => 'nbwss')).toBe('keychain');
    expect(backendFor('keychain', undefined, {}, false, 998, () => 'nbwss')).toBe('keychain');
  });

  it('a store name that is not one: named, with both choices', () => {
    expect(rejection(() => parseBackendName('vault', 'NBWSS_SECRET_STORE'))).toEqual({
      code: 'USAGE',
      message: 'NBWSS_SECRET_STORE must be keychain or file, not "vault"',
      hint: 'Use --secret-store keychain (the OS keychain) or --secret-store file (an encrypted file).',
    });
  });

  it('a bad --secret-store or NBWSS_SECRET_STORE is named by where it came from', () => {
    expect(() => requestedBackend('vault', {})).toThrow('--secret-store must be keychain or file, not "vault"');
    expect(() => requestedBackend(undefined, { NBWSS_SECRET_STORE: 'vault' })).toThrow('NBWSS_SECRET_STORE must be keychain or file, not "vault"');
  });

  it('asking for the other store than the one recorded is refused, with the way out', () => {
    expect(rejection(() => chooseBackend('keychain', { value: 'file', source: 'NBWSS_SECRET_STORE' }))).toEqual({
      code: 'STORE',
      message: 'This store keeps its tokens in the keychain secret store, but NBWSS_SECRET_STORE asks for file',
      hint: 'Drop NBWSS_SECRET_STORE, or use another store (--home) for the file secret store.',
    });
    expect(chooseBackend('keychain', { value: 'keychain', source: '--secret-store' })).toBe('keychain');
    expect(chooseBackend(undefined, { value: 'file', source: '--secret-store' })).toBe('file');
  });

  it('the key file of a user without XDG_CONFIG_HOME is in ~/.config', () => {
    expect(defaultKeyFile({}, 1000, () => 'alice')).toBe(join(homedir(), '.config', 'nbwss', 'secret.key'));
  });
});

describe('opening a secret store', () => {
  it('a shared store refuses the keychain: a keychain belongs to one machine', async () => {
    const table = {} as NonNullable<Parameters<typeof openSecretStore>[1]['shared']>;
    await expect(openSecretStore('keychain', { home: tempDir(), storeId: 's', keyFile: '/k', shared: table })).rejects.toMatchObject({
      code: 'STORE',
      message: 'A shared (PostgreSQL) store cannot keep its tokens in a keychain: a keychain belongs to one machine',
      hint: expect.stringMatching(/^Its tokens are kept in the database, encrypted with the key file \(NBWSS_SECRET_KEY_FILE\): drop .*keychain/),
    });
  });

  it('a shared store: the database store over the key file; the file and the keychain stores otherwise', async () => {
    const table = {} as NonNullable<Parameters<typeof openSecretStore>[1]['shared']>;
    const home = tempDir();
    expect((await openSecretStore('file', { home, storeId: 's', keyFile: '/k', shared: table })).constructor.name).toBe('DbSecretStore');
    const file = await openSecretStore('file', { home, storeId: 's', keyFile: join(home, 'k') });
    expect(file).toBeInstanceOf(FileSecretStore);
    expect((file as FileSecretStore).keyFile).toBe(join(home, 'k'));
    expect((await openSecretStore('keychain', { home, storeId: 's', keyFile: '/k' })).name).toBe('keychain');
  });
});
