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

/** OpenSSL's verification codes in words (the raw code stays in --json and under NBWSS_DEBUG=1). */
const TRUST_ERRORS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'its chain ends in a self-signed certificate this machine does not trust',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'issued by a CA this machine does not know',
  UNABLE_TO_GET_ISSUER_CERT: 'issued by a CA this machine does not know',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'issued by a CA this machine does not know',
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not yet valid',
  CERT_REVOKED: 'revoked',
  CERT_SIGNATURE_FAILURE: 'its signature does not verify',
  CERT_UNTRUSTED: 'not trusted for this purpose',
  INVALID_CA: 'signed by a certificate that is not a CA',
};

export function describeTrustError(code: string): string {
  return TRUST_ERRORS[code] ?? 'its chain cannot be verified';
}

/** A TLS failure in words, the code after them; undefined when the code is not one of TLS's. */
export function describeTlsFailure(code: string): string | undefined {
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `the server's certificate does not name this host (${code})`;
  if (TRUST_ERRORS[code] || /CERT|SELF_SIGNED|UNABLE_TO/.test(code)) return `the server's certificate is not trusted: ${describeTrustError(code)} (${code})`;
  if (/^ERR_SSL|^ERR_TLS/.test(code)) return `the TLS handshake failed (${code})`;
  return undefined;
}
