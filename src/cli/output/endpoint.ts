import type { EndpointDetails } from '../../core/endpoint/details.js';
import { maskUrl } from '../../core/endpoint/url.js';
import { safeText } from '../../core/text.js';
import type { EndpointRow, EndpointSummary as EndpointRecord } from '../../core/store/db.js';

/** The documented JSON shape of an entry in list --json (stable field names). */
export function endpointJson(r: EndpointRecord) {
  return {
    hostName: r.hostName,
    url: maskUrl(r.url),
    groupId: r.groupId,
    priority: r.priority,
    state: r.state,
    connectionState: r.connectionState,
    pinType: r.pinType,
    fingerprint: r.fingerprint,
    notAfter: r.notAfter,
  };
}

export const LIST_HEAD = ['Host Name', 'URL', 'Group ID', 'Priority', 'State', 'Connection State'];

export const listRow = (r: EndpointRow) => [r.hostName, maskUrl(r.url), r.groupId, String(r.priority), r.state, r.connectionState];

/** The dialog's Server Information block: the URL masked (its query may be a secret), the token hidden. */
export function serverInformation(d: EndpointDetails, title = 'Server Information'): string {
  return [
    title,
    `  Host Name:                  ${safeText(d.hostName)}`,
    `  WebSocket Server Endpoint:  ${maskUrl(d.url)}`,
    `  Group ID:                   ${safeText(d.groupId)}`,
    `  Priority:                   ${d.priority}`,
    '  Token:                      ********',
  ].join('\n');
}
