import type { EndpointDetails } from '../../core/endpoint/details.js';
import { maskUrl } from '../../core/endpoint/url.js';
import { safeText } from '../../core/text.js';
import type { EndpointRow, EndpointSummary as EndpointRecord } from '../../core/store/db.js';

/** The documented JSON shape of an entry in list --json (stable field names). */
export function endpointJson(summary: EndpointRecord) {
  return {
    hostName: summary.hostName,
    url: maskUrl(summary.url),
    groupId: summary.groupId,
    priority: summary.priority,
    state: summary.state,
    connectionState: summary.connectionState,
    pinType: summary.pinType,
    fingerprint: summary.fingerprint,
    notAfter: summary.notAfter,
  };
}

export const LIST_HEAD = ['Host Name', 'URL', 'Group ID', 'Priority', 'State', 'Connection State'];

export const listRow = (r: EndpointRow) => [r.hostName, maskUrl(r.url), r.groupId, String(r.priority), r.state, r.connectionState];

/** The dialog's Server Information block: the URL masked (its query may be a secret), the token hidden. */
export function serverInformation(details: EndpointDetails, title = 'Server Information'): string {
  return [
    title,
    `  Host Name:                  ${safeText(details.hostName)}`,
    `  WebSocket Server Endpoint:  ${maskUrl(details.url)}`,
    `  Group ID:                   ${safeText(details.groupId)}`,
    `  Priority:                   ${details.priority}`,
    '  Token:                      ********',
  ].join('\n');
}
