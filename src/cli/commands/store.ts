import { resolve } from 'node:path';
import { Command } from 'commander';
import { NbwssError } from '../../core/errors.js';
import { safeJson } from '../../core/text.js';
import type { Context, GlobalOptions } from '../context.js';

export interface StoreCopyOptions extends GlobalOptions {
  to: string;
  json?: boolean;
}

export function storeCommand(ctx: Context): Command {
  const store = new Command('store').description('The store itself: copy it between SQLite and a shared PostgreSQL store');
  store.addCommand(
    new Command('copy')
      .description('Copy this store (entries, pins, notifications, poll state, tokens) into a new, empty store, and verify the copy')
      .requiredOption('--to <url|dir>', 'the target: postgres://USER@HOST:PORT/DB (password in PGPASSWORD or ~/.pgpass), or a directory for a SQLite store')
      .option('--json', 'print what was copied as JSON')
      .addHelpText(
        'after',
        `
The source is the store in force (--store / NBWSS_STORE, else SQLite in
--home). Stop the daemons first: what they change while the copy runs is not
carried over. Tokens are read from the source's secret store and sealed again
for the target (a PostgreSQL store: in the database, with the key file, which
each host of the shared store needs).

Examples:
  nbwss store copy --to postgres://nbwss@db.example.com/nbwss
  NBWSS_STORE=postgres://nbwss@db.example.com/nbwss nbwss store copy --to /var/lib/nbwss-local`,
      )
      .action(async (_o, cmd: Command) => runStoreCopy(cmd.optsWithGlobals<StoreCopyOptions>(), ctx)),
  );
  return store;
}

export async function runStoreCopy(options: StoreCopyOptions, ctx: Context): Promise<void> {
  const [{ copyStore }, { EndpointStore, storeUrl, safeStoreUrl }, { openSecretStore, defaultKeyFile, requestedBackend }] = await Promise.all([
    import('../../core/services/copy.js'),
    import('../../core/store/db.js'),
    import('../../core/secrets/index.js'),
  ]);
  const toUrl = /^postgres(ql)?:\/\//.test(options.to) ? storeUrl(options.to, {}) : undefined;
  const src = await ctx.readStore(options);
  if (!src) throw new NbwssError('NOT_FOUND', 'There is no store to copy here', { hint: 'Check --home or --store.' });
  try {
    const dst = toUrl ? EndpointStore.open(ctx.home(options), { url: toUrl }) : EndpointStore.open(resolve(options.to));
    try {
      if (!toUrl && src.backend.kind === 'sqlite' && resolve(options.to) === resolve(src.home))
        throw new NbwssError('USAGE', 'The target is the store itself', { hint: 'Give another directory, or a postgres:// URL.' });
      const requested = requestedBackend(options.secretStore, ctx.env);
      // A SQLite target keeps tokens in the file secret store unless a keychain is asked for; a shared one seals them in the database.
      const name = dst.isShared ? 'file' : (requested?.value ?? 'file');
      const dstSecrets = await openSecretStore(name, { home: dst.home, storeId: dst.storeId, keyFile: defaultKeyFile(ctx.env), shared: dst.shared?.secrets });
      const result = copyStore(src, await ctx.secrets(src, options), dst, dstSecrets);
      const where = toUrl ? safeStoreUrl(toUrl) : resolve(options.to);
      if (options.json) ctx.io.stdout.write(`${safeJson({ to: where, ...result })}\n`);
      ctx.info(
        ctx.style.green(
          `Copied to ${where} and verified: ${result.rows.endpoints} entries, ${result.pending} pending notifications, ${result.tokens} tokens and credentials (${dstSecrets.name === 'file' && dst.isShared ? 'sealed in the database' : `${dstSecrets.name} secret store`}).`,
        ),
      );
    } finally {
      dst.close();
    }
  } finally {
    src.close();
  }
}
