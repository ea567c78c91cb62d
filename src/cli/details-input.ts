import { NbwssError } from '../core/errors.js';
import type { LoadedDetails } from '../core/endpoint/details.js';
import type { Context } from './context.js';

export interface SourceOptions {
  file?: string;
  url?: string;
  caFile?: string[];
  timeout: number;
}

/** The endpoint details from --file (or - for stdin) or --url, validated; warnings printed. */
export async function loadDetails(options: SourceOptions, ctx: Context): Promise<LoadedDetails> {
  const { parseDetails } = await import('../core/endpoint/details.js');
  let loaded: LoadedDetails;
  if (options.url !== undefined) {
    const { fetchDetails } = await import('../core/endpoint/remote.js');
    const { withSpinner } = await import('./output/spinner.js');
    const { maskUrl } = await import('../core/endpoint/url.js');
    // --url - reads the URL from standard input: a one-time secret in its query stays out of ps and shell history.
    const url = options.url === '-' ? await readUrlFromStdin(ctx) : options.url;
    const body = await withSpinner(ctx, `Fetching the endpoint details from ${maskUrl(url)}`, () =>
      fetchDetails(url, { timeoutMs: options.timeout, caFiles: options.caFile ?? [], env: ctx.env }),
    );
    loaded = parseDetails(body, 'url');
  } else if (options.file !== undefined) {
    const source = await import('../core/endpoint/source.js');
    const input = options.file === '-' ? await source.readDetailsStream(ctx.io.stdin) : source.readDetailsFile(options.file);
    for (const w of input.warnings) ctx.warn(w);
    loaded = parseDetails(input.bytes, 'file');
  } else {
    throw new NbwssError('USAGE', 'The endpoint details are needed: --file PATH (- for standard input) or --url URL', {
      hint: 'Example: nbwss add --file endpoint.json',
    });
  }
  for (const w of loaded.warnings) ctx.warn(w);
  return loaded;
}

export function sourceConflict(options: SourceOptions): void {
  if (options.file !== undefined && options.url !== undefined) {
    throw new NbwssError('USAGE', '--file and --url cannot be used together', { hint: 'The details come from one place: a file or a URL.' });
  }
}

const MAX_URL_BYTES = 8192;

/** The details URL, alone on standard input (one line; surrounding blanks ignored). */
async function readUrlFromStdin(ctx: Context): Promise<string> {
  let text = '';
  for await (const chunk of ctx.io.stdin) {
    text += String(chunk);
    if (text.length > MAX_URL_BYTES)
      throw new NbwssError('USAGE', `--url -: standard input holds more than ${MAX_URL_BYTES} bytes; it must hold the details URL alone`, {
        hint: 'Example: printf \'%s\\n\' "$URL" | nbwss add --url - --yes',
      });
  }
  const url = text.trim();
  if (url === '' || /\s/.test(url)) {
    throw new NbwssError('USAGE', '--url -: standard input must hold the details URL alone, on one line', {
      hint: 'Example: printf \'%s\\n\' "$URL" | nbwss add --url - --yes',
    });
  }
  return url;
}
