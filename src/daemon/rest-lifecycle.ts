import { readFileSync } from 'node:fs';
import type { NbwssProperties } from '../core/config/properties.js';
import { RestClient } from '../core/api/rest.js';
import { apiTrust } from '../core/api/trust.js';
import type { CommandHandler, Logger } from './connection.js';
import type { Metrics } from './metrics.js';

export interface RestLifecycleOptions {
  properties: () => NbwssProperties;
  /** The REST service's pinned certificate (`nbwss api trust`), if any: read from the store on each refresh. */
  pin: () => string | undefined;
  log: Logger;
  metrics?: Metrics;
}

/**
 * The daemon's one REST client (COMMAND REQUESTs and the poller call NetBackup through it), made from api.* and the
 * pin in force and made again when either changes (refresh() at each reconcile, so SIGHUP and `nbwss api trust`
 * take effect without a restart). Calls that started on the old client finish on it; it is closed behind them.
 */
export class RestLifecycle {
  private client: RestClient;
  /** The inputs the client was made from (inputs().key). */
  private madeFrom: string;

  constructor(private readonly options: RestLifecycleOptions) {
    const inputs = this.inputs();
    this.client = this.make(inputs);
    this.madeFrom = inputs.key;
  }

  /** The client in force now. */
  get current(): RestClient {
    return this.client;
  }

  /** What every connection's COMMAND REQUESTs go through: always the client in force, and the metrics of each answer. */
  readonly commands: CommandHandler = {
    basePath: () => this.client.settings.baseUrl.pathname,
    call: (request, signal, room) => this.client.call(request, signal, room),
    answered: (method, code, errorCode, seconds) => {
      this.options.metrics?.commands.inc({ method, code: String(code), nbwss_error: errorCode ?? '' });
      this.options.metrics?.commandDuration.observe({ method }, seconds);
    },
  };

  /** Make the client again if its properties or the pin changed since it was made. */
  refresh(): void {
    const inputs = this.inputs();
    if (inputs.key === this.madeFrom) return;
    const old = this.client;
    this.client = this.make(inputs);
    this.madeFrom = inputs.key;
    this.options.log.info({ baseUrl: this.options.properties()['api.baseUrl'] }, 'REST client settings changed');
    // Calls still running on the old client end with it. undici's destroy() does not reject, but were it to, the
    // daemon logs it rather than meet an unhandled rejection.
    // Stryker disable next-line all: a rejection undici does not make; only the log line would tell
    old.close().catch((err: unknown) => this.options.log.warn({ err: (err as Error).message }, 'closing the old REST client failed'));
  }

  /** The REST service as `nbwss status` shows it: where, and how it is trusted. */
  view(): { baseUrl: string; trust: string } {
    const { trust, baseUrl } = this.client.settings;
    return {
      baseUrl: baseUrl.origin + baseUrl.pathname,
      trust: trust.kind === 'ca' ? 'api.caFile' : trust.kind === 'pin' ? `pinned ${trust.pin.fingerprint}` : `none: ${trust.why}`,
    };
  }

  close(): Promise<void> {
    return this.client.close();
  }

  private make({ props, pin }: ReturnType<RestLifecycle['inputs']>): RestClient {
    const baseUrl = new URL(props['api.baseUrl']);
    const trust = apiTrust(baseUrl, props['api.caFile'], pin, (f) => readFileSync(f, 'utf8'));
    if (trust.kind === 'none')
      this.options.log.warn(
        { baseUrl: baseUrl.origin + baseUrl.pathname, why: trust.why },
        'COMMAND REQUESTs will be answered 502 until the REST service is trusted',
      );
    return new RestClient({ baseUrl, trust, timeoutMs: props['api.timeout'], maxBodyBytes: props['api.maxBodyBytes'] });
  }

  /** What the client is made from, and a key that changes when any of it does. */
  private inputs() {
    const props = this.options.properties();
    const pin = this.options.pin();
    return { props, pin, key: JSON.stringify([props['api.baseUrl'], props['api.caFile'], props['api.timeout'], props['api.maxBodyBytes'], pin]) };
  }
}
