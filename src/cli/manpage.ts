import type { Command, Option } from 'commander';
import { EXIT_CODES } from './exit-codes.js';

/**
 * nbwss(1), generated from the commander program itself (as the completions
 * are), so the manual cannot drift from the real commands and flags.
 */

/** Text for roff: backslashes escaped, no line starting with a control character. */
export function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');
}

const bold = (s: string) => `\\fB${roff(s)}\\fR`;

function optionLines(options: readonly Option[]): string[] {
  const out: string[] = [];
  for (const o of options) {
    if (o.hidden) continue;
    out.push('.TP', bold(o.flags), roff(o.description + (o.argChoices ? ` (one of: ${o.argChoices.join(', ')})` : '')));
  }
  return out;
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let x: Command | null = command; x?.parent; x = x.parent) names.unshift(x.name());
  return names.join(' ');
}

/** Every command but help, depth first, in the order --help lists them. */
function allCommands(program: Command): Command[] {
  const out: Command[] = [];
  const walk = (command: Command) => {
    for (const sub of command.commands as Command[]) {
      if (sub.name() === 'help') continue;
      out.push(sub);
      walk(sub);
    }
  };
  walk(program);
  return out;
}

/** A property as the man page lists it: its key, default, unit and what it does. */
export interface ManProperty {
  key: string;
  default: unknown;
  unit?: string;
  description: string;
}

const EXAMPLES: [string, string][] = [
  [
    'nbwss add --file endpoint.json',
    "Save an endpoint from its provider's details file: the certificate is shown and pinned once accepted, the token kept in the secret store.",
  ],
  ['nbwss list', 'The saved endpoints, by group and priority.'],
  ['nbwss daemon --log-stderr', 'Run the daemon in the foreground (systemctl enable --now nbwss runs it as a service).'],
  ['nbwss status', 'Is the daemon running; per group which endpoint is connected and what its notifications are doing; problems with their fix.'],
  ['nbwss status --check --max-pending-age 900', 'One line and a Nagios exit code, for monitoring.'],
  [
    'nbwss api key set < apikey.txt && nbwss config set api.poll.jobs true',
    "Let the daemon poll the primary's jobs with an API key read from stdin (never the command line).",
  ],
  ['nbwss check', "Fetch every endpoint's certificate and say OK, CHANGED, EXPIRING, EXPIRED or UNREACHABLE (for cron)."],
  ['sudo -u nbwss nbwss add --file endpoint.json', 'With the Debian or RPM package: run the CLI as the service account (its store is /var/lib/nbwss).'],
  ['nbwss lab demo', 'The whole system once on this machine, without a cloud or a primary.'],
];

export function manPage(program: Command, version: string, environment: [string, string][], properties: readonly ManProperty[] = []): string {
  const lines: string[] = [
    '.\\" nbwss(1), generated from the command definitions by npm run build; do not edit.',
    `.TH NBWSS 1 "" "nbwss ${roff(version)}" "User Commands"`,
    '.SH NAME',
    `nbwss \\- ${roff(program.description().replace(/\.$/, ''))}`,
    '.SH SYNOPSIS',
    `${bold('nbwss')} [\\fIglobal options\\fR] \\fIcommand\\fR [\\fIoptions\\fR] [\\fIarguments\\fR]`,
    '.SH DESCRIPTION',
    roff(
      'nbwss saves the endpoint details a cloud provider hands over (token, priority, groupId, hostName, url), ' +
        "validates them, fetches and pins the endpoint's TLS certificate, keeps the token in the OS keychain or an " +
        'encrypted file, and runs the NBWSS daemon that connects to the ACTIVATED endpoints by group and priority.',
    ),
    '.SH GLOBAL OPTIONS',
    ...optionLines(program.options as Option[]),
    '.SH COMMANDS',
  ];
  for (const c of allCommands(program)) {
    if (c.commands.length > 0) {
      lines.push('.SS', `${bold(`nbwss ${commandPath(c)}`)} \\fIsubcommand\\fR`, '.PP', roff(c.description()));
      continue;
    }
    const aliases = c.aliases().length ? ` (alias: ${c.aliases().join(', ')})` : '';
    lines.push('.SS', `${bold(`nbwss ${commandPath(c)}`)} ${roff(c.usage())}${roff(aliases)}`, '.PP', roff(c.description()));
    const args = c.registeredArguments ?? [];
    for (const a of args)
      if (a.description) lines.push('.TP', `\\fI${roff(a.name())}\\fR`, roff(a.description + (a.argChoices ? ` (one of: ${a.argChoices.join(', ')})` : '')));
    lines.push(...optionLines(c.options as Option[]));
  }
  lines.push('.SH PROPERTIES', roff('nbwss.properties in the store directory (nbwss config get|set|unset|list); the daemon re-reads it on SIGHUP.'));
  for (const p of properties)
    lines.push('.TP', bold(p.key), roff(`${p.description} (default: ${p.default === '' ? 'empty' : String(p.default)}${p.unit ? ` ${p.unit}` : ''})`));
  lines.push('.SH EXAMPLES');
  for (const [cmd, what] of EXAMPLES) lines.push('.TP', bold(cmd), roff(what));
  lines.push('.SH EXIT STATUS');
  for (const [code, meaning] of EXIT_CODES) lines.push('.TP', bold(String(code)), roff(meaning));
  lines.push('.SH ENVIRONMENT');
  for (const [name, meaning] of environment) lines.push('.TP', bold(name), roff(meaning));
  lines.push(
    '.SH FILES',
    '.TP',
    bold('~/.local/share/nbwss/'),
    roff(
      "The store (NBWSS_HOME): nbwss.db, nbwss.properties, audit.log, logs/nbwss.log, daemon.pid, daemon.sock, secrets.enc; /var/lib/nbwss for root and for the packages' nbwss account.",
    ),
    '.TP',
    bold('~/.config/nbwss/secret.key'),
    roff("The file secret store's key (/etc/nbwss/secret.key for root and the nbwss account)."),
    '.TP',
    bold('/lib/systemd/system/nbwss.service'),
    roff('The unit of the Debian package (/usr/lib/systemd/system with the RPM; contrib/nbwss.service of an npm or tarball install).'),
    '.SH SEE ALSO',
    roff(
      'The README: /usr/share/doc/nbwss/README.md (the Debian and RPM packages), README.md in the release directory, or $(npm root -g)/nbwss/README.md (npm). The NetBackup WebSocket Service reference guide.',
    ),
    '',
  );
  return lines.join('\n');
}
