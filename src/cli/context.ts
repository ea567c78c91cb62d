import type { EndpointStore, SecretBackendName } from '../core/store/db.js';
import type { SecretStore } from '../core/secrets/types.js';
import type { IO } from './io.js';
import type { Style } from './output/style.js';
import type { ControlRequest } from '../core/daemon-protocol.js';

export interface GlobalOptions {
  home?: string;
  secretStore?: string;
  /** A shared PostgreSQL store's URL (else $NBWSS_STORE, else SQLite in home). */
  store?: string;
}

export interface Prompter {
  confirm(message: string, defaultValue: boolean): Promise<boolean>;
  select<T extends string>(message: string, choices: { name: string; value: T; description?: string }[]): Promise<T>;
  /** A line of text; `validate` returns true or what is wrong. */
  input(message: string, validate?: (value: string) => true | string | Promise<true | string>): Promise<string>;
  /** A secret, echoed as *. */
  password(message: string): Promise<string>;
}

/**
 * What commands depend on, resolved lazily so a command loads only what it
 * uses and a test can pass its own.
 */
export interface Context {
  io: IO;
  env: NodeJS.ProcessEnv;
  style: Style;
  prompter(): Promise<Prompter>;
  /** The store directory: --home, NBWSS_HOME, or the default. */
  home(globals: GlobalOptions): string;
  /** The store, created and migrated if need be: for commands that change it. */
  openStore(globals: GlobalOptions): Promise<EndpointStore>;
  /** The store read-only, or undefined when there is none: for commands that only read (nothing is created). */
  readStore(globals: GlobalOptions): Promise<EndpointStore | undefined>;
  /** The secret store in force for this store (recorded choice, flag, env, default keychain). */
  secrets(store: EndpointStore, globals: GlobalOptions): Promise<SecretStore>;
  /** Before a command creates a store: make sure the secret store it would use answers (a failed run creates nothing). */
  probeBeforeCreating?(globals: GlobalOptions): Promise<void>;
  /**
   * What the run learned about its change (declared with changesStore()):
   * the hosts it touched, as the store names them, and a detail for the audit
   * line. main writes the audit line and tells the daemon once the run ends.
   * `tell`: what the daemons hear instead of the default (nbwss notify: what
   * was queued and refused), told whatever the run's outcome.
   */
  changed?(learned: { hosts?: string[]; detail?: string; tell?: DaemonNews }): void;
  /** A message line on stderr. */
  info(msg: string): void;
  warn(msg: string): void;
}

export type { SecretBackendName };

/** What a command tells the daemons of its change: the request for a running daemon of this home, and the shared store's channel, if any. */
export interface DaemonNews {
  request: Exclude<ControlRequest, { cmd: 'watch' }>;
  announce?: 'notify';
}
