import { homedir } from 'node:os';
import { join } from 'node:path';
import { NbwssError } from '../errors.js';
import type { SecretBackendName } from '../store/db.js';
import type { SecretStore } from './types.js';
import { W } from '../hints.js';
import { SERVICE_ACCOUNT, userName, usesSystemPlaces } from '../config/paths.js';

export type { SecretStore } from './types.js';
export { accountFor } from './types.js';

export const SECRET_BACKENDS: readonly SecretBackendName[] = ['keychain', 'file'];

/**
 * The key file of the file secret store: NBWSS_SECRET_KEY_FILE, else outside
 * the store directory ($XDG_CONFIG_HOME/nbwss/secret.key, /etc/nbwss/secret.key
 * for root), so a copy or backup of NBWSS_HOME alone does not hold the key.
 */
export function defaultKeyFile(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? -1, user: () => string = userName): string {
  if (env.NBWSS_SECRET_KEY_FILE) return env.NBWSS_SECRET_KEY_FILE;
  if (usesSystemPlaces(uid, user)) return '/etc/nbwss/secret.key';
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'nbwss', 'secret.key');
}

export function parseBackendName(value: string, source: string): SecretBackendName {
  if ((SECRET_BACKENDS as readonly string[]).includes(value)) return value as SecretBackendName;
  throw new NbwssError('USAGE', `${source} must be keychain or file, not "${value}"`, {
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
export function backendFor(
  recorded: SecretBackendName | undefined,
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  shared = false,
  uid = process.getuid?.() ?? -1,
  user: () => string = userName,
): SecretBackendName {
  const requested = requestedBackend(flag, env);
  // A shared store's tokens are sealed in it with the key file (the file scheme); a keychain request is refused when opened.
  if (shared && !recorded && !requested) return 'file';
  // The package's service account has no login session, so no keychain: the file store, as its unit says.
  if (!recorded && !requested && uid > 0 && user() === SERVICE_ACCOUNT) return 'file';
  return chooseBackend(recorded, requested);
}

export async function openSecretStore(
  name: SecretBackendName,
  opts: { home: string; storeId: string; keyFile: string; shared?: import('./db.js').SecretsTable },
): Promise<SecretStore> {
  if (opts.shared) {
    // A shared store serves several hosts: its tokens live in it, sealed with the key file every host holds.
    if (name === 'keychain')
      throw new NbwssError('STORE', 'A shared (PostgreSQL) store cannot keep its tokens in a keychain: a keychain belongs to one machine', {
        hint: `Its tokens are kept in the database, encrypted with the key file (${W.keyFileVar}): drop ${W.secretStoreFlags.replace(/file/g, 'keychain')}.`,
      });
    const [{ DbSecretStore }, { FileSecretStore }] = await Promise.all([import('./db.js'), import('./file.js')]);
    return new DbSecretStore(opts.shared, new FileSecretStore(opts.home, opts.keyFile), opts.keyFile);
  }
  if (name === 'file') {
    const { FileSecretStore } = await import('./file.js');
    return new FileSecretStore(opts.home, opts.keyFile);
  }
  const { KeychainSecretStore } = await import('./keychain.js');
  return new KeychainSecretStore(opts.storeId);
}
