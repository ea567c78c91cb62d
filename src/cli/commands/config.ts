import { Command } from 'commander';
import type { Context, GlobalOptions } from '../context.js';
import { safeJson } from '../../core/text.js';
import { changesStore } from '../changes.js';

export function configCommand(ctx: Context): Command {
  const config = new Command('config')
    .description("Read and edit nbwss.properties in the store directory (the guide's Table 2-4; the daemon reads it)")
    .addHelpText(
      'after',
      `
Examples:
  nbwss config list
  nbwss config set connectionInfo.period 30
  nbwss config unset connectionInfo.period`,
    );
  const home = (cmd: Command) => ctx.home(cmd.optsWithGlobals<GlobalOptions>());
  config.addCommand(
    new Command('list')
      .description('Every property: value in force, default, and whether it is set in the file')
      .option('--json', 'print a JSON array')
      .addHelpText('after', '\nExample:\n  nbwss config list --json')
      .action(async (o: { json?: boolean }, cmd: Command) => {
        const { listProperties } = await import('../../core/config/properties.js');
        const views = listProperties(home(cmd));
        if (o.json) return void ctx.io.stdout.write(`${safeJson(views)}\n`);
        const { renderTable } = await import('../output/table.js');
        const rows = views.map((v) => [
          v.key,
          String(v.value) + (v.valid ? '' : ' (NOT VALID)'),
          v.default === null ? '-' : String(v.default),
          v.vendorOnly ? 'vendor-only' : v.set ? 'set' : 'default',
          v.unit ?? '',
        ]);
        ctx.io.stdout.write(`${await renderTable(['Key', 'Value', 'Default', 'Source', 'Unit'], rows, ctx.io)}\n`);
      }),
  );
  config.addCommand(
    new Command('get')
      .description('Print the value in force (the default when unset)')
      .argument('<key>')
      .option('--json', 'print the property as JSON')
      .addHelpText('after', '\nExample:\n  nbwss config get keepAlive.scheduledRate')
      .action(async (key: string, o: { json?: boolean }, cmd: Command) => {
        const { getProperty } = await import('../../core/config/properties.js');
        const v = getProperty(home(cmd), key);
        ctx.io.stdout.write(o.json ? `${safeJson(v)}\n` : `${v.value}\n`);
      }),
  );
  config.addCommand(
    changesStore(
      new Command('set')
        .description('Set a property; the file keeps its comments, order and other keys')
        .argument('<key>')
        .argument('<value>')
        .addHelpText('after', '\nExample:\n  nbwss config set exception.ignoreDecoder true')
        .action(async (key: string, value: string, _o, cmd: Command) => {
          const { setProperty, parseValue } = await import('../../core/config/properties.js');
          const { ensurePrivateDir } = await import('../../core/store/fs.js');
          const dir = home(cmd);
          parseValue(key, value); // refuse before creating anything
          ensurePrivateDir(dir);
          const v = setProperty(dir, key, value);
          ctx.info(`${key}=${v}`);
          await ctx.changed?.(cmd.optsWithGlobals<GlobalOptions>(), { command: 'config set', hosts: [], detail: `${key}=${v}` });
        }),
      { detail: ([key, value]) => `${key}=${value}` },
    ),
  );
  config.addCommand(
    changesStore(
      new Command('unset')
        .description('Remove a property from the file: its default is in force again')
        .argument('<key>')
        .addHelpText('after', '\nExample:\n  nbwss config unset notification.sendTimeout')
        .action(async (key: string, _o, cmd: Command) => {
          const { unsetProperty } = await import('../../core/config/properties.js');
          const was = unsetProperty(home(cmd), key);
          ctx.info(was ? `${key} unset; the default is in force.` : `${key} was not set; the default is in force.`);
          await ctx.changed?.(cmd.optsWithGlobals<GlobalOptions>(), { command: 'config unset', hosts: [], detail: key });
        }),
      { detail: ([key]) => key! },
    ),
  );
  return config;
}
