import { Command, Option } from 'commander';
import { makeAcceptor, parseFingerprints } from '../accept.js';
import { changesStore } from '../changes.js';
import type { Context, GlobalOptions } from '../context.js';
import { collect, parseTimeout } from '../options.js';
import { NbwssError } from '../../core/errors.js';
import { safeJson } from '../../core/text.js';

export interface ApiPinOptions extends GlobalOptions {
  fingerprint?: string[];
  yes?: boolean;
  timeout: number;
  json?: boolean;
}

export function apiCommand(ctx: Context): Command {
  const api = new Command('api').description(
    'The NetBackup REST service COMMAND REQUESTs are sent to (api.baseUrl): trust its certificate, see what is trusted',
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
  return api;
}

export async function runApiPin(o: ApiPinOptions, ctx: Context): Promise<void> {
  const wanted = await parseFingerprints(o.fingerprint);
  const [{ loadProperties }, { fetchCertificate }, { formatCertificate }, { API_PIN_META }] = await Promise.all([
    import('../../core/config/properties.js'),
    import('../../core/tls/fetch.js'),
    import('../output/certificate.js'),
    import('../../core/api/trust.js'),
  ]);
  const home = ctx.home(o);
  const base = new URL(loadProperties(home)['api.baseUrl']);
  const { withSpinner } = await import('../output/spinner.js');
  const c = await withSpinner(ctx, `Fetching the certificate of ${base.host}`, () => fetchCertificate(base, { timeoutMs: o.timeout }));
  ctx.info(formatCertificate('the REST service', base.host, c, ctx.style, undefined, Boolean(ctx.env.NBWSS_DEBUG)));
  const accepted = await makeAcceptor(ctx, o, wanted, 'cert')(base.host, c, `Pin this certificate for the REST service at ${base.origin}?`);
  if (!accepted) throw new NbwssError('CANCELLED', 'Not pinned; nothing was changed.');
  const pin = {
    origin: base.origin,
    pinType: 'cert' as const,
    fingerprint: c.fingerprint,
    spkiFingerprint: c.spkiFingerprint,
    certPem: c.pem,
    notAfter: c.notAfter,
  };
  const store = await ctx.openStore(o);
  try {
    store.write(() => store.setMeta(API_PIN_META, JSON.stringify(pin)));
  } finally {
    store.close();
  }
  if (o.json) ctx.io.stdout.write(`${safeJson({ origin: pin.origin, fingerprint: pin.fingerprint, notAfter: pin.notAfter })}\n`);
  ctx.info(ctx.style.green(`Pinned the certificate of the REST service at ${base.origin} (SHA-256 ${c.fingerprint}).`));
  await ctx.changed?.(o, { command: 'api pin', hosts: [], detail: base.origin });
}

export async function runApiUnpin(o: GlobalOptions, ctx: Context): Promise<void> {
  const { API_PIN_META } = await import('../../core/api/trust.js');
  const store = await ctx.openStore(o);
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
  await ctx.changed?.(o, { command: 'api unpin', hosts: [] });
}

export async function runApiShow(o: GlobalOptions & { json?: boolean }, ctx: Context): Promise<void> {
  const [{ loadProperties }, { API_PIN_META }] = await Promise.all([import('../../core/config/properties.js'), import('../../core/api/trust.js')]);
  const p = loadProperties(ctx.home(o));
  const store = await ctx.readStore(o);
  let pinJson: string | undefined;
  try {
    pinJson = store?.getMeta(API_PIN_META);
  } finally {
    store?.close();
  }
  const pin = pinJson ? (JSON.parse(pinJson) as { origin: string; fingerprint: string; notAfter: string }) : null;
  const base = new URL(p['api.baseUrl']);
  const trust =
    p['api.caFile'] !== ''
      ? `api.caFile ${p['api.caFile']}`
      : pin && pin.origin === base.origin
        ? `pinned certificate SHA-256 ${pin.fingerprint} (valid until ${pin.notAfter})`
        : pin
          ? `none: the pin is for ${pin.origin}; run nbwss api pin`
          : 'none: set api.caFile or run nbwss api pin (COMMAND REQUESTs are answered 502 until then)';
  if (o.json)
    return void ctx.io.stdout.write(
      `${safeJson({ baseUrl: p['api.baseUrl'], caFile: p['api.caFile'] || null, pin: pin ? { origin: pin.origin, fingerprint: pin.fingerprint, notAfter: pin.notAfter } : null, timeoutMs: p['api.timeout'], maxBodyBytes: p['api.maxBodyBytes'] })}\n`,
    );
  ctx.io.stdout.write(`base URL: ${p['api.baseUrl']}\ntrust:    ${trust}\ntimeout:  ${p['api.timeout']} ms\nmax body: ${p['api.maxBodyBytes']} bytes\n`);
}
