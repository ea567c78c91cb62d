/**
 * Typed errors of the core. The core never prints or exits: it throws these,
 * and the CLI's main (src/cli/main.ts) maps `code` to an exit code.
 */
export type ErrorCode =
  | 'USAGE' // the command line itself is wrong
  | 'INVALID_DETAILS' // endpoint details fail validation
  | 'NETWORK' // connection, DNS, TLS handshake
  | 'CERTIFICATE' // certificate not accepted or did not match
  | 'EXISTS' // the entity already exists
  | 'NOT_FOUND' // no entity was found
  | 'STORE' // store or keychain failure
  | 'AUTH' // NetBackup's REST API refused nbwss's credentials (401/403)
  | 'CANCELLED'; // the user pressed Ctrl-C or declined

export class NbwssError extends Error {
  override readonly name = 'NbwssError';
  readonly code: ErrorCode;
  /** What to do next; printed under the message. */
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.hint = opts.hint;
  }
}

/** The guide's word-for-word error texts (chapter 3 tables). */
export const GUIDE = {
  jsonNotValid: 'JSON contents not valid',
  wssOnly: 'Invalid websocket protocol. Only wss protocol supported',
  malformedUrl: (url: string) => `Malformed URL: ${url}`,
  unableToConnect: (host: string) => `Unable to establish connection with host: ${host}`,
  sslSetup: 'Failed to setup SSL security',
  certMismatch: 'The certificate did not match with the one accepted by the user, please verify the certificate',
  exists: 'the entity already exists',
  notFound: 'no entity was found',
  invalidParameter: 'Invalid command parameter',
  remoteObject: 'Failed to open connection to the remote object referred to by the URL',
  unparsableJson: 'InvalidPacketException Unable to parse JSON contents',
} as const;
