/** The store's domain types, apart from how a backend keeps them. */

export type EndpointState = 'ACTIVATED' | 'DEACTIVATED';
export type ConnectionState = 'CONNECTED' | 'DISCONNECTED';
export type PinType = 'cert' | 'spki';
export type SecretBackendName = 'keychain' | 'file';

export interface EndpointRecord {
  hostName: string;
  url: string;
  groupId: string;
  priority: number;
  state: EndpointState;
  pinType: PinType;
  certPem: string;
  fingerprint: string;
  spkiFingerprint: string;
  notAfter: string;
  createdAt: string;
  updatedAt: string;
  connectionState: ConnectionState;
  connectionSince: string | null;
  lastError: string | null;
}

/** What listing and checking need; fewer columns read faster (nbwss list runs in loops and completions). */
export type EndpointSummary = Pick<
  EndpointRecord,
  'hostName' | 'url' | 'groupId' | 'priority' | 'state' | 'pinType' | 'fingerprint' | 'spkiFingerprint' | 'notAfter' | 'connectionState'
>;

/** What `nbwss list` and the daemon's metrics show: no pin (1,000 pins cost more to read than the rest of the listing). */
export type EndpointRow = Pick<EndpointRecord, 'hostName' | 'url' | 'groupId' | 'priority' | 'state' | 'connectionState' | 'notAfter'>;

export type NewEndpoint = Omit<EndpointRecord, 'createdAt' | 'updatedAt' | 'connectionState' | 'connectionSince' | 'lastError'>;
