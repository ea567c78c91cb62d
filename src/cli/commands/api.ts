import { Command, Option } from 'commander';
import { makeAcceptor, parseFingerprints } from '../accept.js';
import { changesStore } from '../changes.js';
import type { Context, GlobalOptions } from '../context.js';
import { collect, parseTimeout } from '../options.js';
import { NbwssError } from '../../core/errors.js';
import { safeJson, safeText } from '../../core/text.js';
import { canPrompt } from '../io.js';

export interface ApiPinOptions extends GlobalOptions {
  fingerprint?: string[];
  yes?: boolean;
  timeout: number;
  json?: boolean;
}

export function apiCommand(ctx: Context): Command {
  const api = new Command('api').description(
    "NetBackup's REST API: where COMMAND REQUESTs go (api.baseUrl, trusting its certificate) and nbwss's own access to it for polling (an API key or a login, a test, a poll now)",
  );
  api.addCommand(
    changesStore(
      new Command('pin')
        .description("Fetch the REST service's certificate from api.baseUrl, show it, and pin it once accepted (instead of api.caFile)")
        .addOption(new Option('--fingerprint <sha256>', 'accept only the certificate with this SHA-256 fingerprint').argParser(collect).conflicts('yes'))
        .option('-y, --yes', 'trust the certificate the REST service presents without asking')
        .addOption(new Option('--timeout <ms>', 'bound on connecting and the TLS handshake').argParser(parseTimeout).default(10_000))
        .option('--json', 'print the pin as JSON')
        .addHelpText(
          'after',
          `
NetBackup's web service presents a certificate from the NetBackup CA. Trust it
either with api.caFile (the CA's PEM file) or with a pin made here. With
neither, every COMMAND REQUEST is answered 502 (NBWSS_API_TLS).

Examples:
  nbwss api pin
  nbwss api pin --fingerprint AB:CD:...:EF`,
        )
        .action(async (_o, cmd: Command) => runApiPin(cmd.optsWithGlobals<ApiPinOptions>(), ctx)),
      { name: 'api pin' },
    ),
  );
  api.addCommand(
    changesStore(
      new Command('unpin')
        .description('Forget the pinned certificate of the REST service')
        .action(async (_o, cmd: Command) => runApiUnpin(cmd.optsWithGlobals<GlobalOptions>(), ctx)),
      { name: 'api unpin' },
    ),
  );
  api.addCommand(
    new Command('show')
      .description('The REST service COMMAND REQUESTs go to, and how its certificate is trusted')
      .option('--json', 'print JSON')
      .action(async (_o, cmd: Command) => runApiShow(cmd.optsWithGlobals<GlobalOptions & { json?: boolean }>(), ctx)),
  );
  const key = new Command('key').description("The NetBackup API key nbwss's own calls use (polling jobs and images)");
  key.addCommand(
    changesStore(
      new Command('set')
        .description('Store a NetBackup API key, read from standard input (never from the command line); it is checked against the primary first')
        .allowExcessArguments(true)
        .addHelpText(
          'after',
          `
Create the key on the primary (NetBackup web UI: Security > API keys) for a
user whose role may view jobs and images. The key is sent as NetBackup wants
it: Authorization: <key>.

Examples:
  nbwss api key set < apikey.txt
  nbwss api key set          # asks for it, echoed as *`,
        )
        .action(async (_o, cmd: Command) => {
          if (cmd.args.length > 0)
            throw new NbwssError('USAGE', 'nbwss api key set takes no argument: the key is read from standard input, never from the command line', {
              hint: 'A key on the command line shows in ps and in your shell history. Give it on standard input: nbwss api key set < apikey.txt',
            });
          return runApiKeySet(cmd.optsWithGlobals<GlobalOptions>(), ctx);
        }),
      { name: 'api key set' },
    ),
  );
  api.addCommand(key);
  api.addCommand(
    changesStore(
      new Command('login')
        .description('Log nbwss in to the primary as a NetBackup user (for primaries without API keys); the password is read from standard input or asked for')
        .requiredOption('--user <name>', 'the NetBackup user name')
        .option('--domain-name <name>', 'the domain of the user')
        .option('--domain-type <type>', 'the domain type (unixpwd, vx, ldap, nt, …)')
        .addHelpText(
          'after',
          `
The password is kept in the secret store: the daemon logs in with POST /login
and logs in again before the token (JWT) expires.

Examples:
  nbwss api login --user nbwss-poller < password.txt
  nbwss api login --user admin --domain-name NBU --domain-type unixpwd`,
        )
        .action(async (_o, cmd: Command) => runApiLogin(cmd.optsWithGlobals<ApiLoginOptions>(), ctx)),
      { name: 'api login' },
    ),
  );
  api.addCommand(
    changesStore(
      new Command('logout')
        .description('Forget the API key or login nbwss uses (polling stops asking the primary)')
        .action(async (_o, cmd: Command) => runApiLogout(cmd.optsWithGlobals<GlobalOptions>(), ctx)),
      { name: 'api logout' },
    ),
  );
  api.addCommand(
    new Command('test')
      .description('Call the REST API once for each thing nbwss needs of it, and say what works')
      .option('--json', 'print JSON')
      .action(async (_o, cmd: Command) => runApiTest(cmd.optsWithGlobals<GlobalOptions & { json?: boolean }>(), ctx)),
  );
  api.addCommand(
    new Command('poll')
      .description('Ask the running daemon to poll the REST API now (the notify scripts do this)')
      .action(async (_o, cmd: Command) => runApiPoll(cmd.optsWithGlobals<GlobalOptions>(), ctx)),
  );
  return api;
}

export interface ApiLoginOptions extends GlobalOptions {
  user: string;
  domainName?: string;
  domainType?: string;
}

async function readSecret(ctx: Context, question: string): Promise<string> {
  if (canPrompt(ctx.io)) return (await ctx.prompter()).password(question);
  let text = '';
  for await (const chunk of ctx.io.stdin) {
    text += String(chunk);
    if (text.length > 65_536) throw new NbwssError('USAGE', 'Standard input is longer than 64 KiB: give the secret alone');
  }
  return text;
}

function saidStored(ctx: Context, stored: { auth: string; checked: boolean; why?: string }): void {
  if (stored.checked) ctx.info(ctx.style.green(`Stored: nbwss calls the REST API with the ${stored.auth}; the primary accepted it.`));
  else ctx.warn(`Stored the ${stored.auth} without checking it: the primary could not be asked (${stored.why}). Run nbwss api test when it can.`);
}

export async function runApiKeySet(options: GlobalOptions, ctx: Context): Promise<void> {
  const { setApiKey } = await import('../../core/services/api.js');
  const store = await ctx.openStore(options);
  try {
    const raw = await readSecret(ctx, 'NetBackup API key:');
    const secrets = await ctx.secrets(store, options);
    saidStored(ctx, await setApiKey(store, secrets, raw));
  } finally {
    store.close();
  }
}

export async function runApiLogin(options: ApiLoginOptions, ctx: Context): Promise<void> {
  const { apiLogin } = await import('../../core/services/api.js');
  const store = await ctx.openStore(options);
  try {
    const raw = await readSecret(ctx, `Password of ${options.user}:`);
    const secrets = await ctx.secrets(store, options);
    saidStored(ctx, await apiLogin(store, secrets, { userName: options.user, domainName: options.domainName, domainType: options.domainType }, raw));
  } finally {
    store.close();
  }
  ctx.changed?.({ detail: `user ${options.user}` });
}

export async function runApiLogout(options: GlobalOptions, ctx: Context): Promise<void> {
  const { forgetApiCredentials } = await import('../../core/services/api.js');
  const store = await ctx.openStore(options);
  let was: string | undefined;
  try {
    was = forgetApiCredentials(store, await ctx.secrets(store, options));
  } finally {
    store.close();
  }
  ctx.info(was ? `Forgot the ${was}.` : 'No REST API credentials were stored; nothing to do.');
}

export async function runApiTest(options: GlobalOptions & { json?: boolean }, ctx: Context): Promise<void> {
  const { testApi } = await import('../../core/services/api.js');
  const store = await ctx.readStore(options);
  let result: Awaited<ReturnType<typeof testApi>>;
  try {
    result = await testApi(ctx.home(options), store, store ? await ctx.secrets(store, options) : undefined);
  } finally {
    store?.close();
  }
  if (options.json) ctx.io.stdout.write(`${safeJson(result)}\n`);
  else {
    ctx.io.stdout.write(`REST API ${result.baseUrl}, credentials: ${result.auth}\n`);
    for (const c of result.checks)
      ctx.io.stdout.write(`  ${c.ok ? ctx.style.green('ok  ') : ctx.style.red('FAIL')} ${c.name.padEnd(12)} ${safeText(c.detail)}\n`);
  }
  if (result.failure === 'AUTH') throw new NbwssError('AUTH', "NetBackup's REST API does not accept nbwss's credentials (see above)");
  if (result.failure) throw new NbwssError('NETWORK', "NetBackup's REST API cannot be used as it is (see above)");
}

export async function runApiPoll(options: GlobalOptions, ctx: Context): Promise<void> {
  const { askDaemon } = await import('../../core/daemon-client.js');
  const answer = await askDaemon<{ ok: boolean }>(ctx.home(options), { cmd: 'poll' });
  if (!answer?.ok)
    throw new NbwssError('NOT_FOUND', 'No daemon is running for this store: nothing polls the REST API', {
      hint: 'Start it: nbwss daemon (see nbwss daemon --help)',
    });
  ctx.info('The daemon polls the REST API now.');
}

export async function runApiPin(options: ApiPinOptions, ctx: Context): Promise<void> {
  const wanted = await parseFingerprints(options.fingerprint);
  const [{ loadProperties }, { fetchCertificate }, { formatCertificate }, { API_PIN_META }] = await Promise.all([
    import('../../core/config/properties.js'),
    import('../../core/tls/fetch.js'),
    import('../output/certificate.js'),
    import('../../core/api/trust.js'),
  ]);
  const home = ctx.home(options);
  const base = new URL(loadProperties(home)['api.baseUrl']);
  const { withSpinner } = await import('../output/spinner.js');
  const cert = await withSpinner(ctx, `Fetching the certificate of ${base.host}`, () => fetchCertificate(base, { timeoutMs: options.timeout }));
  ctx.info(formatCertificate('the REST service', base.host, cert, ctx.style, undefined, Boolean(ctx.env.NBWSS_DEBUG)));
  const accepted = await makeAcceptor(ctx, options, wanted, 'cert')(base.host, cert, `Pin this certificate for the REST service at ${base.origin}?`);
  if (!accepted) throw new NbwssError('CANCELLED', 'Not pinned; nothing was changed.');
  const pin = {
    origin: base.origin,
    pinType: 'cert' as const,
    fingerprint: cert.fingerprint,
    spkiFingerprint: cert.spkiFingerprint,
    certPem: cert.pem,
    notAfter: cert.notAfter,
  };
  const store = await ctx.openStore(options);
  try {
    store.write(() => store.setMeta(API_PIN_META, JSON.stringify(pin)));
  } finally {
    store.close();
  }
  if (options.json) ctx.io.stdout.write(`${safeJson({ origin: pin.origin, fingerprint: pin.fingerprint, notAfter: pin.notAfter })}\n`);
  ctx.info(ctx.style.green(`Pinned the certificate of the REST service at ${base.origin} (SHA-256 ${cert.fingerprint}).`));
  ctx.changed?.({ detail: base.origin });
}

export async function runApiUnpin(options: GlobalOptions, ctx: Context): Promise<void> {
  const { API_PIN_META } = await import('../../core/api/trust.js');
  const store = await ctx.openStore(options);
  let had: boolean;
  try {
    had = store.write(() => {
      const was = store.getMeta(API_PIN_META) !== undefined;
      store.setMeta(API_PIN_META, undefined);
      return was;
    });
  } finally {
    store.close();
  }
  ctx.info(had ? 'The pin of the REST service is removed.' : 'No pin was recorded; nothing to do.');
}

export async function runApiShow(options: GlobalOptions & { json?: boolean }, ctx: Context): Promise<void> {
  const [{ loadProperties }, { API_PIN_META }] = await Promise.all([import('../../core/config/properties.js'), import('../../core/api/trust.js')]);
  const props = loadProperties(ctx.home(options));
  const store = await ctx.readStore(options);
  let pinJson: string | undefined;
  try {
    pinJson = store?.getMeta(API_PIN_META);
  } finally {
    store?.close();
  }
  const pin = pinJson ? (JSON.parse(pinJson) as { origin: string; fingerprint: string; notAfter: string }) : null;
  const base = new URL(props['api.baseUrl']);
  const trust =
    props['api.caFile'] !== ''
      ? `api.caFile ${props['api.caFile']}`
      : pin && pin.origin === base.origin
        ? `pinned certificate SHA-256 ${pin.fingerprint} (valid until ${pin.notAfter})`
        : pin
          ? `none: the pin is for ${pin.origin}; run nbwss api pin`
          : 'none: set api.caFile or run nbwss api pin (COMMAND REQUESTs are answered 502 until then)';
  if (options.json)
    return void ctx.io.stdout.write(
      `${safeJson({ baseUrl: props['api.baseUrl'], caFile: props['api.caFile'] || null, pin: pin ? { origin: pin.origin, fingerprint: pin.fingerprint, notAfter: pin.notAfter } : null, timeoutMs: props['api.timeout'], maxBodyBytes: props['api.maxBodyBytes'] })}\n`,
    );
  ctx.io.stdout.write(
    `base URL: ${props['api.baseUrl']}\ntrust:    ${trust}\ntimeout:  ${props['api.timeout']} ms\nmax body: ${props['api.maxBodyBytes']} bytes\n`,
  );
}
