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
  CANCELLED: 130,
};

export const EXIT_HELP = `Exit codes:
  0    success
  1    unexpected error
  2    usage error (unknown command or flag, bad flag value)
  3    invalid endpoint details
  4    network or TLS failure
  5    certificate not accepted or did not match
  6    the entity already exists
  7    no entity was found
  8    store or keychain failure
  130  cancelled (Ctrl-C)`;
