import { homedir } from 'node:os';
import { join } from 'node:path';
import { NbwssError } from '../errors.js';
import type { SecretBackendName } from '../store/db.js';
import type { SecretStore } from './types.js';
import { W } from '../hints.js';

export type { SecretStore } from './types.js';
export { accountFor } from './types.js';

export const SECRET_BACKENDS: readonly SecretBackendName[] = ['keychain', 'file'];

/**
 * The key file of the file secret store: NBWSS_SECRET_KEY_FILE, else outside
 * the store directory ($XDG_CONFIG_HOME/nbwss/secret.key, /etc/nbwss/secret.key
 * for root), so a copy or backup of NBWSS_HOME alone does not hold the key.
 */
export function defaultKeyFile(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? -1): string {
  if (env.NBWSS_SECRET_KEY_FILE) return env.NBWSS_SECRET_KEY_FILE;
  if (uid === 0) return '/etc/nbwss/secret.key';
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'nbwss', 'secret.key');
}

export function parseBackendName(v: string, source: string): SecretBackendName {
  if ((SECRET_BACKENDS as readonly string[]).includes(v)) return v as SecretBackendName;
  throw new NbwssError('USAGE', `${source} must be keychain or file, not "${v}"`, {
    hint: `Use ${W.secretStore('keychain')} (the OS keychain) or ${W.secretStore('file')} (an encrypted file).`,
  });
}

/**
 * Which backend a run uses: the one recorded in the store wins; a request
 * that contradicts it is refused rather than silently ignored.
 */
export function chooseBackend(recorded: SecretBackendName | undefined, requested: { value: SecretBackendName; source: string } | undefined): SecretBackendName {
  if (recorded && requested && requested.value !== recorded) {
    throw new NbwssError('STORE', `This store keeps its tokens in the ${recorded} secret store, but ${requested.source} asks for ${requested.value}`, {
      hint: `Drop ${requested.source}, or use another store (${W.home}) for the ${requested.value} secret store.`,
    });
  }
  return recorded ?? requested?.value ?? 'keychain';
}

/** The secret store asked for: the --secret-store flag, else NBWSS_SECRET_STORE, else nothing. */
export function requestedBackend(flag: string | undefined, env: NodeJS.ProcessEnv): { value: SecretBackendName; source: string } | undefined {
  if (flag) return { value: parseBackendName(flag, '--secret-store'), source: '--secret-store' };
  if (env.NBWSS_SECRET_STORE) return { value: parseBackendName(env.NBWSS_SECRET_STORE, 'NBWSS_SECRET_STORE'), source: 'NBWSS_SECRET_STORE' };
  return undefined;
}

/**
 * The one rule for which secret store a run uses, for every front end (the
 * CLI and the daemon): what the store recorded, else what was asked for, else
 * the keychain; asking for the other one than recorded is refused.
 */
export function backendFor(recorded: SecretBackendName | undefined, flag: string | undefined, env: NodeJS.ProcessEnv): SecretBackendName {
  return chooseBackend(recorded, requestedBackend(flag, env));
}

export async function openSecretStore(name: SecretBackendName, opts: { home: string; storeId: string; keyFile: string }): Promise<SecretStore> {
  if (name === 'file') {
    const { FileSecretStore } = await import('./file.js');
    return new FileSecretStore(opts.home, opts.keyFile);
  }
  const { KeychainSecretStore } = await import('./keychain.js');
  return new KeychainSecretStore(opts.storeId);
}
