import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EndpointStore } from '../core/store/db.js';

/**
 * The daemon's Prometheus metrics (prom-client). Names follow Prometheus's
 * conventions (nbwss_ prefix, _total counters, base units: seconds). Labels
 * carry only what `nbwss list` already shows (group ids, host names) or a
 * small fixed set (reason, method, code): never a token, a URL or a query.
 */
/** Connections /metrics holds at once (server.maxConnections): more are closed as they come; idle ones close after 15 s. */
export const METRICS_MAX_CONNECTIONS = 16;

type Series = { labels: Record<string, string>; value: number };
/** What the scrape-time gauges are computed from: the store's rows and outboxes, read once per scrape. */
type StoreSnapshot = { list: ReturnType<EndpointStore['endpoints']['listRows']>; outbox: ReturnType<EndpointStore['outbox']['groups']> };

/**
 * A gauge whose series are computed whole at scrape time and printed in the text exposition format here, after the
 * registry's metrics: with 2,000 groups these are 10,000 series, and prom-client's labelled gauges (a hash and a
 * reset per series, then a general formatter per line) were most of the scrape's time (`npm run bench:daemon`).
 */
interface ScrapeGauge<S = unknown> {
  name: string;
  help: string;
  series: (snapshot: S) => Series[];
}

const LABEL_SPECIALS = /[\\"\n]/;
/** A label value in the text format: backslash, double quote and line feed escaped (most values have none). */
const labelValue = (v: string) => (LABEL_SPECIALS.test(v) ? v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`)) : v);
const sampleValue = (value: number) => (Number.isFinite(value) ? String(value) : Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf');

/** The gauges in the text exposition format, byte for byte as prom-client prints them; one line built per series. */
export function renderScrapeGauges<S>(gauges: readonly ScrapeGauge<S>[], snapshot: S): string {
  let out = '';
  for (const gauge of gauges) {
    out += `# HELP ${gauge.name} ${gauge.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${gauge.name} gauge\n`;
    for (const { labels, value } of gauge.series(snapshot)) {
      let line = gauge.name;
      let open = false;
      for (const k in labels) {
        line += `${open ? ',' : '{'}${k}="${labelValue(labels[k]!)}"`;
        open = true;
      }
      out += `${open ? `${line}}` : line} ${sampleValue(value)}\n`;
    }
    out += '\n';
  }
  return out.slice(0, -1);
}

export class Metrics {
  readonly registry = new Registry();
  readonly connectAttempts = new Counter({ name: 'nbwss_connection_attempts_total', help: 'Connection attempts to endpoints', registers: [this.registry] });
  readonly connectFailures = new Counter({
    name: 'nbwss_connection_failures_total',
    help: 'Connection attempts that failed, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  /** A connection attempt failed: counted by its reason's kind (the label's small fixed set). */
  connectFailed(reason: string): void {
    this.connectFailures.inc({ reason: failureKind(reason) });
  }
  readonly connectionsEnded = new Counter({
    name: 'nbwss_connections_ended_total',
    help: 'Established connections that ended, by who ended them',
    labelNames: ['by'] as const,
    registers: [this.registry],
  });
  readonly connectDuration = new Histogram({
    name: 'nbwss_connect_duration_seconds',
    help: 'From opening the connection to the CONNECT RESPONSE accepting the token',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly commands = new Counter({
    name: 'nbwss_commands_total',
    help: 'COMMAND REQUESTs answered, by method and responseCode (nbwss_error names nbwss own answers)',
    labelNames: ['method', 'code', 'nbwss_error'] as const,
    registers: [this.registry],
  });
  readonly commandDuration = new Histogram({
    name: 'nbwss_command_duration_seconds',
    help: 'From a COMMAND REQUEST to its COMMAND RESPONSE',
    labelNames: ['method'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly notificationsAccepted = new Counter({
    name: 'nbwss_notifications_accepted_total',
    help: 'Notifications queued by nbwss notify while this daemon ran, per group',
    labelNames: ['group'] as const,
    registers: [this.registry],
  });
  readonly notificationsRefused = new Counter({
    name: 'nbwss_notifications_refused_total',
    help: 'Notifications refused because the group outbox was full',
    labelNames: ['group'] as const,
    registers: [this.registry],
  });
  readonly messagesSent = new Counter({
    name: 'nbwss_notification_messages_sent_total',
    help: 'NOTIFICATION REQUESTs sent for the first time',
    labelNames: ['group'] as const,
    registers: [this.registry],
  });
  readonly messagesResent = new Counter({
    name: 'nbwss_notification_messages_resent_total',
    help: 'NOTIFICATION REQUESTs sent again (no acknowledgement in time, or another connection)',
    labelNames: ['group'] as const,
    registers: [this.registry],
  });
  readonly acknowledged = new Counter({
    name: 'nbwss_notifications_acknowledged_total',
    help: 'Notifications acknowledged by the cloud',
    labelNames: ['group'] as const,
    registers: [this.registry],
  });
  readonly ackLatency = new Histogram({
    name: 'nbwss_notification_ack_latency_seconds',
    help: 'From a notification being accepted to its acknowledgement (the oldest of each message)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 10, 30, 60, 300, 3600],
    registers: [this.registry],
  });
  readonly polls = new Counter({
    name: 'nbwss_api_polls_total',
    help: "Polls of NetBackup's REST API per source (jobs, images) and outcome (ok, error, rejected: 401/403 or no credentials)",
    labelNames: ['source', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly pollNotifications = new Counter({
    name: 'nbwss_api_poll_notifications_total',
    help: 'Notifications found by polling, per source',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly lastGoodPoll = new Gauge({
    name: 'nbwss_api_poll_last_success_timestamp_seconds',
    help: 'When each source last polled without an error (Unix time)',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  private server: Server | undefined;

  private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });
  /** What one scrape reads from the store, read once for all the gauges that need it. */

  /** Printed after the registry's metrics (renderScrapeGauges). */
  private readonly scrapeGauges: ScrapeGauge<StoreSnapshot>[] = [];

  constructor(
    private readonly store: EndpointStore,
    now: () => Date,
  ) {
    this.processMetrics();
    /** The groups with an ACTIVATED endpoint (they collect notifications), 0 for each: an absent series alerts nobody. */
    const collectingZeros = (snap: StoreSnapshot) => {
      const zeros = new Map<string, number>();
      for (const e of snap.list) if (e.state === 'ACTIVATED') zeros.set(e.groupId, 0);
      return zeros;
    };
    // Read from the store at scrape time (one query for all), each series written once: with 2,000 groups these are
    // 10,000 series, which prom-client's labelled gauges (a hash and a reset per series) made the scrape's main cost.
    this.scrapeGauges.push({
      name: 'nbwss_endpoints',
      help: 'Saved endpoints by state and connection state',
      series: (snap) => {
        const counts = new Map<string, { state: string; connection_state: string; n: number }>();
        for (const row of snap.list) {
          const key = `${row.state} ${row.connectionState}`;
          const count = counts.get(key) ?? counts.set(key, { state: row.state, connection_state: row.connectionState, n: 0 }).get(key)!;
          count.n++;
        }
        return [...counts.values()].map(({ n, ...labels }) => ({ labels, value: n }));
      },
    });
    this.scrapeGauges.push({
      name: 'nbwss_group_connected',
      help: '1 when a group with ACTIVATED endpoints has an established connection, else 0',
      series: (snap) => {
        const groups = new Map<string, number>();
        for (const row of snap.list)
          if (row.state === 'ACTIVATED') groups.set(row.groupId, Math.max(groups.get(row.groupId) ?? 0, row.connectionState === 'CONNECTED' ? 1 : 0));
        return [...groups].map(([group, value]) => ({ labels: { group }, value }));
      },
    });
    this.scrapeGauges.push({
      name: 'nbwss_certificate_expiry_timestamp_seconds',
      help: "When each endpoint's pinned certificate expires (Unix time)",
      series: (snap) => snap.list.map((r) => ({ labels: { host: r.hostName, group: r.groupId }, value: Math.floor(Date.parse(r.notAfter) / 1000) })),
    });
    this.scrapeGauges.push({
      name: 'nbwss_outbox_pending',
      help: 'Notifications pending per group',
      series: (snap) => {
        const pending = collectingZeros(snap);
        for (const g of snap.outbox) pending.set(g.groupId, g.pending);
        return [...pending].map(([group, value]) => ({ labels: { group }, value }));
      },
    });
    this.scrapeGauges.push({
      name: 'nbwss_outbox_oldest_pending_age_seconds',
      help: 'Age of the oldest pending notification per group (0 when none)',
      series: (snap) => {
        const nowMs = now().getTime();
        const age = collectingZeros(snap);
        for (const outbox of snap.outbox)
          age.set(outbox.groupId, outbox.oldestAcceptedAt ? Math.max(0, (nowMs - Date.parse(outbox.oldestAcceptedAt)) / 1000) : 0);
        return [...age].map(([group, value]) => ({ labels: { group }, value }));
      },
    });
  }

  /**
   * The usual process metrics, under their usual names (prom-client's own
   * defaults name gauges *_total, which promtool rejects).
   */
  private processMetrics(): void {
    const registers = [this.registry];
    const loop = this.loopDelay;
    loop.enable();
    new Counter({
      name: 'process_cpu_seconds_total',
      help: 'User and system CPU time spent, in seconds',
      registers,
      collect() {
        const usage = process.cpuUsage();
        this.reset();
        this.inc((usage.user + usage.system) / 1e6);
      },
    });
    new Gauge({
      name: 'process_resident_memory_bytes',
      help: 'Resident memory size, in bytes',
      registers,
      collect() {
        this.set(process.memoryUsage.rss());
      },
    });
    new Gauge({ name: 'process_start_time_seconds', help: 'Start time of the process since the Unix epoch, in seconds', registers }).set(
      Math.round(Date.now() / 1000 - process.uptime()),
    );
    new Gauge({
      name: 'process_open_fds',
      help: 'Open file descriptors',
      registers,
      collect() {
        try {
          this.set(readdirSync('/proc/self/fd').length);
        } catch {
          /* not Linux */
        }
      },
    });
    new Gauge({
      name: 'nodejs_heap_used_bytes',
      help: 'V8 heap in use, in bytes',
      registers,
      collect() {
        this.set(process.memoryUsage().heapUsed);
      },
    });
    new Gauge({
      name: 'nodejs_eventloop_lag_p99_seconds',
      help: 'The 99th percentile of event loop delay since the last scrape, in seconds',
      registers,
      collect() {
        this.set(loop.percentile(99) / 1e9);
        loop.reset();
      },
    });
  }

  /** Serve GET /metrics on host:port (at most METRICS_MAX_CONNECTIONS at once, idle ones closed); resolves with the address bound. */
  /** The whole /metrics text: the registry's metrics, then the gauges computed at scrape time. */
  async text(): Promise<string> {
    const registered = await this.registry.metrics();
    // One read of the store for all the scrape-time gauges.
    const snapshot: StoreSnapshot = { list: this.store.endpoints.listRows(), outbox: this.store.outbox.groups() };
    return `${registered}\n${renderScrapeGauges(this.scrapeGauges, snapshot)}`;
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    this.server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url !== '/metrics' && !req.url?.startsWith('/metrics?'))) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: the metrics are at /metrics\n');
        return;
      }
      this.text().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (e: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${e.message}\n`),
      );
    });
    const server = this.server;
    // A scraper needs one connection now and then: idle or slow ones do not hold the daemon's sockets.
    server.maxConnections = METRICS_MAX_CONNECTIONS;
    server.headersTimeout = 5000;
    server.requestTimeout = 10_000;
    server.keepAliveTimeout = 5000;
    server.setTimeout(15_000, (socket) => socket.destroy());
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve(server.address() as AddressInfo));
    });
  }

  close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  }
}

/** A connection failure's reason, as a small fixed set for the reason label. */
function failureKind(reason: string): string {
  if (reason === 'token rejected') return 'token_rejected';
  if (reason.startsWith('no CONNECT RESPONSE')) return 'no_connect_response';
  if (reason.startsWith('certificate does not match')) return 'pin_mismatch';
  if (/refused the connection|connection was refused/.test(reason)) return 'refused';
  if (/timed out|timeout/i.test(reason)) return 'timeout';
  if (/DNS|unreachable/.test(reason)) return 'unreachable';
  if (reason.startsWith('the endpoint answered HTTP')) return 'http_status';
  if (reason.startsWith('closed by nbwss')) return 'closed_by_nbwss';
  if (reason.startsWith('closed')) return 'closed_during_handshake';
  return 'other';
}
