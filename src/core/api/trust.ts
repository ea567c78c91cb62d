import { W } from '../hints.js';
import type { Pin } from '../tls/fingerprint.js';

/** How the REST service's certificate is trusted: a CA (api.caFile), a pin (nbwss api pin), or not yet (and why). */
export type ApiTrust = { kind: 'ca'; caPem: string } | { kind: 'pin'; pin: Pin } | { kind: 'none'; why: string };

/** The pin `nbwss api pin` records in the store's meta table, for one origin. */
export interface ApiPin extends Pin {
  origin: string;
  certPem: string;
  notAfter: string;
}

export const API_PIN_META = 'api_pin';

/** How to trust the REST service now: api.caFile if set, else the pin recorded for this origin, else not at all (with why). */
export function apiTrust(baseUrl: URL, caFile: string, pinJson: string | undefined, readFile: (path: string) => string): ApiTrust {
  if (caFile !== '') {
    try {
      return { kind: 'ca', caPem: readFile(caFile) };
    } catch (e) {
      return { kind: 'none', why: `api.caFile ${caFile} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
    }
  }
  if (pinJson) {
    const pin = JSON.parse(pinJson) as ApiPin;
    if (pin.origin === baseUrl.origin) return { kind: 'pin', pin };
    return { kind: 'none', why: `the pinned certificate is for ${pin.origin}, not ${baseUrl.origin}: the administrator runs ${W.apiPin}` };
  }
  return { kind: 'none', why: `the REST service's certificate is not trusted yet: the administrator sets api.caFile or runs ${W.apiPin}` };
}
