import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { GUIDE, NbwssError } from '../errors.js';
import { MAX_DETAILS_BYTES } from './details.js';

export interface DetailsBytes {
  bytes: Buffer;
  warnings: string[];
}

const tooBig = (size: number | string) =>
  new NbwssError('INVALID_DETAILS', `${GUIDE.jsonNotValid}: the details are larger than 1 MiB (${size} bytes)`, {
    hint: 'Endpoint details are a few hundred bytes; check that this is the right file.',
  });

/**
 * Read a details file: at most 1 MiB (a larger one is refused from its size,
 * without being read), with a warning when group or others can read it,
 * since it holds a token.
 */
export function readDetailsFile(path: string): DetailsBytes {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message;
    throw new NbwssError('USAGE', `Cannot read the endpoint details file ${path}: ${why}`, { hint: 'Check the path given to --file.', cause: e });
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory())
      throw new NbwssError('USAGE', `Cannot read the endpoint details file ${path}: it is a directory`, { hint: 'Check the path given to --file.' });
    if (st.isFile() && st.size > MAX_DETAILS_BYTES) throw tooBig(st.size);
    const warnings: string[] = [];
    if (st.isFile() && (st.mode & 0o044) !== 0) {
      warnings.push(
        `${path} is readable by ${st.mode & 0o004 ? 'other users' : 'its group'} and holds a token; restrict it with: chmod 600 ${path} (or delete it once the endpoint is added)`,
      );
    }
    // Read at most one byte past the limit (a FIFO or device has no size up front).
    const buf = Buffer.alloc(MAX_DETAILS_BYTES + 1);
    let filled = 0;
    for (;;) {
      let bytesRead: number;
      try {
        bytesRead = readSync(fd, buf, filled, buf.length - filled, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EISDIR')
          throw new NbwssError('USAGE', `Cannot read the endpoint details file ${path}: it is a directory`, { hint: 'Check the path given to --file.' });
        throw e;
      }
      if (bytesRead === 0) break;
      filled += bytesRead;
      if (filled > MAX_DETAILS_BYTES) throw tooBig('more than 1048576');
    }
    return { bytes: buf.subarray(0, filled), warnings };
  } finally {
    closeSync(fd);
  }
}

/** Read details from a stream (stdin for --file -), refusing more than 1 MiB. */
export async function readDetailsStream(stream: Readable): Promise<DetailsBytes> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += bytes.length;
    if (size > MAX_DETAILS_BYTES) {
      stream.destroy();
      throw tooBig('more than 1048576');
    }
    chunks.push(bytes);
  }
  return { bytes: Buffer.concat(chunks), warnings: [] };
}
