/**
 * The one place that puts a socket or TLS error code into words, for every
 * message that reports a failed connection (certificate fetch, details URL,
 * the daemon's attempts). `where` names the peer when it is known.
 */
export function describeSocketError(code: string | undefined, where?: { host: string; port?: number }): string | undefined {
  const peer = where ? (where.port === undefined ? where.host : `${where.host}:${where.port}`) : undefined;
  switch (code) {
    case 'ECONNREFUSED':
      return peer ? `${peer} refused the connection` : 'the connection was refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return where ? `DNS lookup of ${where.host} failed (${code})` : `DNS lookup failed (${code})`;
    case 'ETIMEDOUT':
      return peer ? `the connection to ${peer} timed out` : 'the connection timed out';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${where?.host ?? 'the host'} is unreachable (${code})`;
    case 'ECONNRESET':
      return 'the server closed the connection';
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
      return 'the server does not speak TLS';
    default:
      return undefined;
  }
}
