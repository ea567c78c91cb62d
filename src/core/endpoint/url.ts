import { GUIDE, NbwssError } from '../errors.js';
import { safeText } from '../text.js';

/**
 * A URL with its query string and fragment masked: both often carry one-time
 * secrets, so no message, log or audit line shows them.
 */
export function maskUrl(raw: string): string {
  const secretFrom = raw.search(/[?#]/);
  let shown = secretFrom === -1 ? raw : `${raw.slice(0, secretFrom)}${raw[secretFrom] === '?' ? '?' : '#'}<redacted>`;
  // user:password@ is a secret too: scheme://<redacted>@host, wherever a scheme starts (a url given with a space
  // before it still parses, and its error message shows it as given).
  shown = shown.replace(/([a-z][a-z0-9+.-]*:\/\/)([^/@]*)@/gi, '$1<redacted>@');
  return safeText(shown);
}

/** The host of a parsed URL without IPv6 brackets. */
export function urlHost(parsed: URL): string {
  return parsed.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** The port a wss:// or https:// URL connects to. */
export function urlPort(parsed: URL): number {
  return parsed.port === '' ? 443 : Number(parsed.port);
}

/**
 * The endpoint URL rules: wss:// only (the guide's "Invalid websocket
 * protocol" message), parsable, a host, no user:password@.
 */
export function parseWssUrl(raw: string): URL {
  const malformed = (why: string) =>
    new NbwssError('INVALID_DETAILS', GUIDE.malformedUrl(maskUrl(raw)), {
      hint: `${why}. Specify the url as wss://HOST[:PORT]/PATH, for example wss://cloudhost7.nebula.com:8080/netbackup/face1`,
    });
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    // A scheme other than wss must still get the protocol message, even if
    // the rest does not parse.
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(raw)?.[1];
    if (scheme && scheme.toLowerCase() !== 'wss') throw wrongScheme(raw);
    throw malformed('The url cannot be parsed');
  }
  if (parsed.protocol !== 'wss:') throw wrongScheme(raw);
  if (parsed.hostname === '') throw malformed('The url names no host');
  if (parsed.username !== '' || parsed.password !== '') throw malformed('The url must not contain user:password@');
  return parsed;
}

function wrongScheme(raw: string): NbwssError {
  return new NbwssError('INVALID_DETAILS', GUIDE.wssOnly, {
    hint: `The url ${maskUrl(raw)} does not start with wss://; ws://, https:// and other schemes are not supported.`,
  });
}

export { canonicalHost, isValidHostName, sameHost } from './host.js';
