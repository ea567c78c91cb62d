import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The store directory: --home, else NBWSS_HOME, else /var/lib/nbwss for
 * root, else $XDG_DATA_HOME/nbwss (~/.local/share/nbwss).
 */
export function resolveHome(flag: string | undefined, env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? -1): string {
  if (flag) return flag;
  if (env.NBWSS_HOME) return env.NBWSS_HOME;
  if (uid === 0) return '/var/lib/nbwss';
  const data = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(data, 'nbwss');
}
