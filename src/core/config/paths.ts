import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';

/** The system account the Debian and RPM packages make for the daemon (packaging/). */
export const SERVICE_ACCOUNT = 'nbwss';

/** The user running nbwss, by name ('' when the system has none for its uid). */
export function userName(): string {
  try {
    return userInfo().username;
  } catch {
    return '';
  }
}

/** Root and the package's service account use the system's places (/var/lib/nbwss, /etc/nbwss), as the packaged unit does. */
export function usesSystemPlaces(uid = process.getuid?.() ?? -1, user: () => string = userName): boolean {
  return uid === 0 || (uid > 0 && user() === SERVICE_ACCOUNT);
}

/**
 * The store directory: --home, else NBWSS_HOME, else /var/lib/nbwss for
 * root and the package's nbwss account, else $XDG_DATA_HOME/nbwss
 * (~/.local/share/nbwss).
 */
export function resolveHome(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  uid = process.getuid?.() ?? -1,
  user: () => string = userName,
): string {
  if (flag) return flag;
  if (env.NBWSS_HOME) return env.NBWSS_HOME;
  if (usesSystemPlaces(uid, user)) return '/var/lib/nbwss';
  const data = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(data, 'nbwss');
}
