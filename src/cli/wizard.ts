import type { LoadedDetails } from '../core/endpoint/details.js';
import { NbwssError } from '../core/errors.js';
import type { Context } from './context.js';
import { loadDetails, type SourceOptions } from './details-input.js';
import { safeText } from '../core/text.js';

/**
 * The WebSocket Server dialog at a terminal: FILE or URL, then the Server
 * Information (token masked, "view token?" offered). The certificate and Add
 * Host steps follow in runAdd. Ctrl-C anywhere writes nothing (exit 130).
 */
export async function askForDetails(ctx: Context, options: SourceOptions): Promise<LoadedDetails> {
  const prompter = await ctx.prompter();
  const [{ parseDetails }, source, { parseDetailsUrl }] = await Promise.all([
    import('../core/endpoint/details.js'),
    import('../core/endpoint/source.js'),
    import('../core/endpoint/remote.js'),
  ]);
  const kind = await prompter.select('Select an option: where are the endpoint details?', [
    { name: 'FILE', value: 'file' as const, description: 'a JSON file from the cloud provider' },
    { name: 'URL', value: 'url' as const, description: 'an https URL that the cloud application generated' },
  ]);
  let loaded: LoadedDetails;
  if (kind === 'file') {
    const file = await prompter.input('File name (path of the JSON file):', (value) => {
      if (value.trim() === '') return 'Enter the path of the endpoint details file';
      try {
        parseDetails(source.readDetailsFile(value.trim()).bytes);
        return true;
      } catch (e) {
        return e instanceof NbwssError ? e.message : String(e);
      }
    });
    loaded = await loadDetails({ ...options, file: file.trim(), url: undefined }, ctx);
  } else {
    const url = await prompter.input('URL:', (value) => {
      try {
        parseDetailsUrl(value.trim());
        return true;
      } catch (e) {
        return e instanceof NbwssError ? `${e.message}: ${e.hint ?? ''}` : String(e);
      }
    });
    loaded = await loadDetails({ ...options, url: url.trim(), file: undefined }, ctx);
  }
  for (const d of loaded.endpoints) {
    const { serverInformation } = await import('./output/endpoint.js');
    ctx.info(serverInformation(d, ctx.style.bold('Server Information')));
    if (await prompter.confirm('Token: View?', false)) ctx.info(`  Token:                      ${safeText(d.token)}`);
  }
  return loaded;
}
