import { safeText } from '../../core/text.js';
import type { DaemonStatus, PollingStatus } from '../commands/status.js';
import { terminalTable } from './table.js';

/**
 * `nbwss status` at a glance, as `systemctl status` reads: a header (the
 * daemon, its pid and uptime, the store, the REST source), one line per
 * server group, and the problems last, each with what fixes it. Pure: the
 * status the daemon answered, the time and whether colour is on in; lines
 * out. Properties are left to --json and `config list`; ISO times to --json.
 */
export interface ViewOptions {
  now: number;
  color: boolean;
  columns?: number;
}

interface Problem {
  /** ✗ something does not work; ! something to know. */
  level: 'error' | 'warning';
  text: string;
  fix?: string;
}

/** 45s, 12m03s, 3h12m, 2d04h: the two largest units. */
export function duration(seconds: number): string {
  const whole = Math.max(0, Math.floor(seconds));
  const two = (n: number) => String(n).padStart(2, '0');
  if (whole < 60) return `${whole}s`;
  if (whole < 3600) return `${Math.floor(whole / 60)}m${two(whole % 60)}s`;
  if (whole < 86_400) return `${Math.floor(whole / 3600)}h${two(Math.floor((whole % 3600) / 60))}m`;
  return `${Math.floor(whole / 86_400)}d${two(Math.floor((whole % 86_400) / 3600))}h`;
}

/** An ISO time as "12s ago" (or "-" when there is none). */
export function ago(iso: string | null | undefined, now: number): string {
  if (!iso) return '-';
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return '-';
  return time > now ? `in ${duration((time - now) / 1000)}` : `${duration((now - time) / 1000)} ago`;
}

/** What fixes an endpoint's last error, by what the error says (the guide's texts and nbwss's own). */
export function fixFor(hostName: string, lastError: string): string {
  if (/certificate/i.test(lastError)) return `nbwss repin ${hostName} (after checking the new certificate with its provider)`;
  if (/token|CONNECT RESPONSE.*valid/i.test(lastError)) return `nbwss token set ${hostName} < token.txt`;
  if (/one host under two names/.test(lastError)) return 'nbwss doctor (names the pair; delete one)';
  return `nbwss check ${hostName} (is it reachable from here?)`;
}

function sourceState(polling: PollingStatus, now: number): string {
  if (polling.paused) return `${polling.source} PAUSED`;
  if (polling.lastError) return `${polling.source} failing`;
  return `${polling.source} polled ${ago(polling.lastPollAt, now)}`;
}

type Paint = (text: string) => string;
const painter = (color: boolean) => (code: string) => (t: string) => (color ? `\x1b[${code}m${t}\x1b[0m` : t);

/** The store and the cluster: what stops the daemon or another daemon from serving. */
function storeProblems(status: DaemonStatus): Problem[] {
  const out: Problem[] = [];
  if (status.storeError)
    out.push({
      level: 'error',
      text: `the store does not answer: ${status.storeError}`,
      fix: 'the daemon keeps its connections and tries again; nbwss doctor checks the store',
    });
  for (const d of status.cluster?.daemons ?? [])
    if (d.keyOk === false)
      out.push({
        level: 'error',
        text: `daemon ${d.host} pid ${d.pid} serves no group: its key file does not open the store's tokens (nbwss doctor)`,
        fix: `on ${d.host}: NBWSS_SECRET_KEY_FILE must name the store's key file`,
      });
  return out;
}

/** The REST source in one line (where COMMANDs go, what is polled), and its problems. */
function restLine(status: DaemonStatus, now: number): { line: string; problems: Problem[] } {
  const problems: Problem[] = [];
  const polling = (status.polling ?? []).filter((p) => p.enabled !== false);
  const api = status.api;
  let line = 'REST: not set up (nbwss api key set, nbwss config set api.baseUrl URL)';
  if (api) {
    const untrusted = /^none\b/.test(api.trust);
    const credentials = api.auth && api.auth !== 'none' ? api.auth : undefined;
    const parts = [
      api.baseUrl,
      api.version ? `API ${api.version}` : undefined,
      credentials ?? 'no credentials',
      untrusted ? 'certificate not trusted' : undefined,
    ];
    parts.push(...polling.map((p) => sourceState(p, now)));
    line = `REST: ${parts
      .filter(Boolean)
      .map((x) => safeText(String(x)))
      .join(' · ')}`;
    if (untrusted && (polling.length > 0 || credentials))
      problems.push({ level: 'error', text: "REST: the primary's certificate is not trusted", fix: 'nbwss api pin, or nbwss config set api.caFile FILE' });
  }
  for (const p of polling) {
    if (p.paused) problems.push({ level: 'error', text: `polling ${p.source} PAUSED until the credentials change: ${p.paused}` });
    else if (p.lastError) problems.push({ level: 'error', text: `polling ${p.source}: ${p.lastError}`, fix: 'nbwss api test' });
    if (p.warning) problems.push({ level: 'warning', text: `polling ${p.source}: warning: ${p.warning}` });
  }
  return { line, problems };
}

type Group = DaemonStatus['groups'][number];
type Mark = 'ok' | 'down' | 'waiting';

/** One group's line in the table. */
function groupRow(group: Group, shared: boolean, now: number): string[] {
  const notifications = group.notifications;
  const live = group.endpoints.find((e) => e.hostName === group.connected);
  const inFlight = notifications?.inFlight
    ? ` (${notifications.inFlight.count} in flight${notifications.inFlight.attempts > 1 ? `, sent ${notifications.inFlight.attempts}×` : ''})`
    : '';
  return [
    '',
    group.groupId,
    group.connected ? `${group.connected}${live && group.endpoints.length > 1 ? ` (priority ${live.priority})` : ''}` : 'not connected',
    group.connected ? ago(group.since, now).replace(/ ago$/, '') : '-',
    notifications ? `${notifications.pending}${inFlight}` : '-',
    notifications && notifications.oldestPendingAgeSeconds !== null ? duration(notifications.oldestPendingAgeSeconds) : '-',
    notifications ? ago(notifications.lastAcknowledgedAt, now) : '-',
    ...(shared ? [group.owner ?? 'no daemon yet'] : []),
  ];
}

/** What is wrong with a group, each with its fix: not connected (and why), not on its first choice, notifications refused. */
function groupProblems(group: Group, mine: boolean): Problem[] {
  const out: Problem[] = [];
  const live = group.endpoints.find((e) => e.hostName === group.connected);
  if (!group.connected && (mine || group.owner)) {
    const failing = group.endpoints.filter((e) => e.lastError);
    if (failing.length === 0) out.push({ level: 'warning', text: `group ${group.groupId}: not connected yet` });
    for (const e of failing)
      out.push({ level: 'error', text: `group ${group.groupId}: ${e.hostName}: ${e.lastError}`, fix: fixFor(e.hostName, e.lastError ?? '') });
  }
  // Connected, but not to its first choice: the endpoints of a better priority that failed.
  for (const e of live ? group.endpoints : [])
    if (e.priority < live!.priority && e.lastError)
      out.push({
        level: 'warning',
        text: `group ${group.groupId}: ${e.hostName} (priority ${e.priority}) is down: ${e.lastError}`,
        fix: fixFor(e.hostName, e.lastError),
      });
  const refused = group.notifications?.refused ?? 0;
  if (refused)
    out.push({
      level: 'warning',
      text: `group ${group.groupId}: ${refused} notification${refused === 1 ? '' : 's'} refused: its outbox was full (notification.maxQueued)`,
      fix: 'bring its cloud back; nbwss config set notification.maxQueued N keeps more',
    });
  return out;
}

function headerLine(status: DaemonStatus, problems: readonly Problem[], paint: { green: Paint; red: Paint; yellow: Paint }): string {
  const dot = status.storeError ? paint.red('●') : problems.some((x) => x.level === 'error') ? paint.yellow('●') : paint.green('●');
  const daemonView = status.cluster;
  return [
    `${dot} nbwss daemon: running`,
    `pid ${status.pid}`,
    `up ${duration(status.uptimeSeconds)}`,
    ...(status.home ? [`store ${safeText(status.home)}${daemonView ? ' (shared PostgreSQL)' : ''}`] : []),
    ...(daemonView ? [`${daemonView.daemons.length} daemon${daemonView.daemons.length === 1 ? '' : 's'}, this one serves ${daemonView.serving.length}`] : []),
    `${safeText(status.secretStore)} secret store`,
  ].join(' · ');
}

export function statusView(status: DaemonStatus, options: ViewOptions): string[] {
  const paint = painter(options.color);
  const [green, red, yellow, dim] = [paint('32'), paint('31'), paint('33'), paint('2')];
  const rest = restLine(status, options.now);
  const shared = Boolean(status.cluster);
  const problems = [...storeProblems(status), ...rest.problems];
  const rows: string[][] = [];
  const marks: Mark[] = [];
  for (const g of status.groups) {
    const mine = !shared || g.owner === undefined || Boolean(status.cluster?.serving.includes(g.groupId));
    rows.push(groupRow(g, shared, options.now));
    marks.push(g.connected ? 'ok' : mine ? 'down' : 'waiting');
    problems.push(...groupProblems(g, mine));
  }
  const lines = [headerLine(status, problems, { green, red, yellow }), `  ${rest.line}`, ''];
  if (rows.length === 0) lines.push('no ACTIVATED endpoints: add one with nbwss add --file endpoint.json');
  else {
    const head = ['', 'Group', 'Connected to', 'Since', 'Pending', 'Oldest', 'Last ack', ...(shared ? ['Owner'] : [])];
    const table = terminalTable(
      head,
      rows.map((r) => r.map(safeText)),
      false,
      options.columns ? options.columns - 2 : undefined,
    ).split('\n');
    lines.push(`  ${table[0]!.trimStart()}`);
    table.slice(1).forEach((line, i) => {
      const mark = marks[i] === 'ok' ? green('●') : marks[i] === 'down' ? red('✗') : dim('○');
      lines.push(`${mark} ${line.trimStart()}`);
    });
  }
  if (problems.length) {
    lines.push('', 'Problems:');
    for (const p of problems) {
      lines.push(`  ${p.level === 'error' ? red('✗') : yellow('!')} ${safeText(p.text)}`);
      if (p.fix) lines.push(`    fix: ${safeText(p.fix)}`);
    }
  }
  return lines;
}

/** What status shows when no daemon of this store answers here: the store's own view (outbox, polling, the cluster). */
export interface NoDaemon {
  /** A daemon holds the socket but did not answer. */
  running: boolean;
  why?: string | undefined;
  shared: boolean;
  home: string;
  daemons: NonNullable<DaemonStatus['cluster']>['daemons'];
  outbox: { groupId: string; pending: number; oldestAcceptedAt: string | null }[];
  /** The polling sources' lines (as the store recorded them). */
  polling: string[];
}

export function noDaemonView(noDaemon: NoDaemon, options: ViewOptions): string[] {
  const paint = painter(options.color);
  const [green, red, yellow, dim] = [paint('32'), paint('31'), paint('33'), paint('2')];
  const head = noDaemon.running
    ? `${yellow('!')} nbwss daemon: ${safeText(noDaemon.why ?? 'not answering')}`
    : noDaemon.why
      ? `${dim('○')} nbwss daemon: none for this store here: ${safeText(noDaemon.why)}`
      : noDaemon.shared
        ? `${dim('○')} nbwss daemon: none on this host (start one with: nbwss daemon, or systemctl start nbwss)`
        : `${dim('○')} nbwss daemon: not running (start it with: nbwss daemon, or systemctl start nbwss)`;
  const lines = [`${head} · store ${safeText(noDaemon.home)}`];
  if (noDaemon.shared) {
    lines.push(`  shared store: ${noDaemon.daemons.length} daemon${noDaemon.daemons.length === 1 ? '' : 's'} live`);
    for (const d of noDaemon.daemons) {
      const groups = `${d.groups.length} group${d.groups.length === 1 ? '' : 's'}${d.groups.length ? ` (${d.groups.join(', ')})` : ''}`;
      const said = safeText(`daemon ${d.host} pid ${d.pid}: ${groups}${d.poller ? ', polls the REST API' : ''}, heartbeat ${ago(d.heartbeatAt, options.now)}`);
      lines.push(`  ${d.keyOk === false ? red('✗') : green('●')} ${said}`);
      if (d.keyOk === false) lines.push("    serves no group: its key file does not open the store's tokens (nbwss doctor)");
    }
  }
  if (noDaemon.outbox.length) {
    lines.push('', '  waiting in the store:');
    const table = terminalTable(
      ['Group', 'Pending', 'Oldest'],
      noDaemon.outbox.map((group) => [
        safeText(group.groupId),
        String(group.pending),
        group.oldestAcceptedAt ? `${ago(group.oldestAcceptedAt, options.now)} (${group.oldestAcceptedAt})` : '-',
      ]),
      false,
      options.columns ? options.columns - 4 : undefined,
    );
    lines.push(...table.split('\n').map((l) => `    ${l}`));
  }
  lines.push(...noDaemon.polling.map(safeText));
  return lines;
}
