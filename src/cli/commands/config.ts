import { Command } from 'commander';
import type { Context, GlobalOptions } from '../context.js';
import { safeJson } from '../../core/text.js';
import { changesStore } from '../changes.js';

export function configCommand(ctx: Context): Command {
  const config = new Command('config')
    .description("Read and edit nbwss.properties in the store directory (the guide's Table 2-4 and nbwss's own; the daemon reads it)")
    .addHelpText(
      'after',
      `
Examples:
  nbwss config list
  nbwss config set connectionInfo.period 30
  nbwss config unset connectionInfo.period`,
    );
  config.addCommand(
    new Command('list')
      .description('Every property: value in force, default, and whether it is set in the file')
      .option('--json', 'print a JSON array')
      .addHelpText('after', '\nExample:\n  nbwss config list --json')
      .action(async (_o, cmd: Command) => runConfigList(cmd.optsWithGlobals<ConfigOptions>(), ctx)),
  );
  config.addCommand(
    new Command('get')
      .description('Print the value in force (the default when unset)')
      .argument('<key>')
      .option('--json', 'print the property as JSON')
      .addHelpText('after', '\nExample:\n  nbwss config get keepAlive.scheduledRate')
      .action(async (key: string, _o, cmd: Command) => runConfigGet(key, cmd.optsWithGlobals<ConfigOptions>(), ctx)),
  );
  config.addCommand(
    changesStore(
      new Command('set')
        .description('Set a property; the file keeps its comments, order and other keys')
        .argument('<key>')
        .argument('<value>')
        .addHelpText('after', '\nExample:\n  nbwss config set exception.ignoreDecoder true')
        .action(async (key: string, value: string, _o, cmd: Command) => runConfigSet(key, value, cmd.optsWithGlobals<GlobalOptions>(), ctx)),
      { detail: ([key, value]) => `${key}=${value}` },
    ),
  );
  config.addCommand(
    changesStore(
      new Command('unset')
        .description('Remove a property from the file: its default is in force again')
        .argument('<key>')
        .addHelpText('after', '\nExample:\n  nbwss config unset notification.sendTimeout')
        .action(async (key: string, _o, cmd: Command) => runConfigUnset(key, cmd.optsWithGlobals<GlobalOptions>(), ctx)),
      { detail: ([key]) => key! },
    ),
  );
  return config;
}

export interface ConfigOptions extends GlobalOptions {
  json?: boolean;
}

export async function runConfigList(options: ConfigOptions, ctx: Context): Promise<void> {
  const { listProperties } = await import('../../core/config/properties.js');
  const views = listProperties(ctx.home(options));
  if (options.json) return void ctx.io.stdout.write(`${safeJson(views)}\n`);
  const { renderTable } = await import('../output/table.js');
  const shown = (x: unknown) => (x === '' ? '(none)' : String(x));
  const rows = views.map((view) => [
    view.key,
    shown(view.value) + (view.valid ? '' : ' (NOT VALID)'),
    view.default === null ? '-' : shown(view.default),
    view.vendorOnly ? 'vendor-only' : view.set ? 'set' : 'default',
    view.unit ?? '',
    view.vendorOnly ? 'vendor' : view.nbwss ? 'nbwss' : 'guide',
  ]);
  ctx.io.stdout.write(`${await renderTable(['Key', 'Value', 'Default', 'Source', 'Unit', 'From'], rows, ctx.io)}\n`);
}

export async function runConfigGet(key: string, options: ConfigOptions, ctx: Context): Promise<void> {
  const { getProperty } = await import('../../core/config/properties.js');
  const view = getProperty(ctx.home(options), key);
  ctx.io.stdout.write(options.json ? `${safeJson(view)}\n` : `${view.value}\n`);
}

export async function runConfigSet(key: string, value: string, options: GlobalOptions, ctx: Context): Promise<void> {
  const { setProperty, parseValue } = await import('../../core/config/properties.js');
  const { ensurePrivateDir } = await import('../../core/store/fs.js');
  const dir = ctx.home(options);
  parseValue(key, value); // refuse before creating anything
  ensurePrivateDir(dir);
  const stored = setProperty(dir, key, value);
  ctx.info(`${key}=${stored}`);
  ctx.changed?.({ detail: `${key}=${stored}` });
}

export async function runConfigUnset(key: string, options: GlobalOptions, ctx: Context): Promise<void> {
  const { unsetProperty } = await import('../../core/config/properties.js');
  const was = unsetProperty(ctx.home(options), key);
  ctx.info(was ? `${key} unset; the default is in force.` : `${key} was not set; the default is in force.`);
}
