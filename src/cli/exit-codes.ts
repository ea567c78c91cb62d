import type { ErrorCode } from '../core/errors.js';

/** The one table from error codes to exit codes (README and --help list it). */
export const EXIT: Record<ErrorCode | 'OK' | 'UNEXPECTED', number> = {
  OK: 0,
  UNEXPECTED: 1,
  USAGE: 2,
  INVALID_DETAILS: 3,
  NETWORK: 4,
  CERTIFICATE: 5,
  EXISTS: 6,
  NOT_FOUND: 7,
  STORE: 8,
  AUTH: 9,
  CANCELLED: 130,
};

/** What each exit code means, for --help and the man page. */
export const EXIT_CODES: readonly [number, string][] = [
  [EXIT.OK, 'success'],
  [EXIT.UNEXPECTED, 'unexpected error'],
  [EXIT.USAGE, 'usage error (unknown command or flag, bad flag value)'],
  [EXIT.INVALID_DETAILS, 'invalid input (endpoint details, notifications)'],
  [EXIT.NETWORK, 'network or TLS failure'],
  [EXIT.CERTIFICATE, 'certificate not accepted or did not match'],
  [EXIT.EXISTS, 'the entity already exists'],
  [EXIT.NOT_FOUND, 'no entity was found'],
  [EXIT.STORE, 'store or keychain failure, or an outbox full (notify)'],
  [EXIT.AUTH, "NetBackup's REST API refused nbwss's credentials (api key set, api login)"],
  [EXIT.CANCELLED, 'cancelled (Ctrl-C)'],
];

export const EXIT_HELP = `Exit codes:\n${EXIT_CODES.map(([c, m]) => `  ${String(c).padEnd(5)}${m}`).join('\n')}`;

/** The environment variables nbwss reads, for --help and the man page. */
export const ENVIRONMENT: readonly [string, string][] = [
  ['NBWSS_HOME', 'the store directory (as --home)'],
  ['NBWSS_STORE', 'a shared PostgreSQL store, postgres://USER@HOST:PORT/DB (as --store; the password in PGPASSWORD or ~/.pgpass)'],
  ['NBWSS_SECRET_STORE', 'keychain or file (as --secret-store)'],
  ['NBWSS_SECRET_KEY_FILE', "the file secret store's 32-byte key file"],
  ['NBWSS_DEBUG', 'set to 1: stack traces and raw library codes in messages'],
  ['NBWSS_NOTIFY_LOG', "where NetBackup's notify scripts (contrib/notify) log a failure (default /usr/openv/netbackup/logs/nbwss-notify.log)"],
  ['NBWSS_NOTIFY_TIMEOUT', 'how long a notify script waits for nbwss notify, in seconds (default 60)'],
  ['NO_COLOR', 'no colour'],
  ['FORCE_COLOR', 'colour even when not on a terminal'],
];

/**
 * A command that has said everything on stdout and must end with a status of
 * its own convention (`nbwss status --check`: the Nagios plugin codes): main
 * prints nothing more and exits with `exitCode`.
 */
export class ExitWith extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}
