import { Command } from 'commander';
import { NbwssError } from '../../core/errors.js';
import type { Context, GlobalOptions } from '../context.js';
import { canPrompt } from '../io.js';
import { safeJson, safeText } from '../../core/text.js';
import { changesStore } from '../changes.js';

export interface DoctorCliOptions extends GlobalOptions {
  fix?: boolean;
  yes?: boolean;
  json?: boolean;
}

export function doctorCommand(ctx: Context): Command {
  const command = new Command('doctor')
    .description('Check the store: integrity, schema, permissions, secret store, tokens and orphans, pinned certificates, properties')
    .option('--fix', 'tighten permissions, and (after confirmation) remove orphan tokens')
    .option('-y, --yes', 'with --fix: remove orphan tokens without asking')
    .option('--json', 'print {ok, checks: [{name, status, detail, fix, fixed}]}')
    .addHelpText(
      'after',
      `
Exit status: 0 when nothing is wrong (warnings allowed), 8 otherwise.

Examples:
  nbwss doctor
  nbwss doctor --fix`,
    )
    .action(async (_o, cmd: Command) => runDoctorCommand(cmd.optsWithGlobals<DoctorCliOptions>(), ctx));
  return changesStore(command, { when: (o) => Boolean(o.fix), name: 'doctor --fix' });
}

export async function runDoctorCommand(options: DoctorCliOptions, ctx: Context): Promise<void> {
  const [{ runDoctor }, { storeUrl }] = await Promise.all([import('../../core/services/doctor.js'), import('../../core/store/db.js')]);
  const checks = await runDoctor({
    home: ctx.home(options),
    storeUrl: storeUrl(options.store, ctx.env),
    fix: Boolean(options.fix),
    secrets: (store) => ctx.secrets(store, options),
    confirmRemoveOrphans: async (accounts) => {
      if (options.yes) return true;
      if (!canPrompt(ctx.io)) {
        ctx.warn(`not removing ${accounts.length} orphan token(s) without confirmation; pass --yes`);
        return false;
      }
      return (await ctx.prompter()).confirm(`Remove the tokens of ${accounts.join(', ')} (they have no entry)?`, false);
    },
  });
  const problems = checks.filter((c) => c.status === 'problem');
  if (options.json) ctx.io.stdout.write(`${safeJson({ ok: problems.length === 0, checks })}\n`);
  else {
    const mark = { ok: ctx.style.green('ok     '), warn: ctx.style.yellow('warn   '), problem: ctx.style.red('PROBLEM') };
    for (const c of checks) {
      ctx.io.stdout.write(`${mark[c.status]}  ${c.name}: ${safeText(c.detail)}\n`);
      if (c.fixed) ctx.io.stdout.write(`         fixed: ${safeText(c.fixed)}\n`);
      if (c.status !== 'ok' && c.fix) ctx.io.stdout.write(`         ${safeText(c.fix)}\n`);
    }
  }
  if (options.fix && checks.some((c) => c.fixed))
    ctx.changed?.({
      detail: checks
        .filter((c) => c.fixed)
        .map((c) => c.fixed)
        .join('; '),
    });
  if (problems.length)
    throw new NbwssError('STORE', `${problems.length} problem${problems.length > 1 ? 's' : ''} found: ${problems.map((p) => p.name).join(', ')}`, {
      hint: options.fix ? undefined : 'Some can be mended with: nbwss doctor --fix',
    });
}
