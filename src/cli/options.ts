import { InvalidArgumentError } from 'commander';

/** A positive whole number of milliseconds. */
export function parseTimeout(v: string): number {
  if (!/^[0-9]+$/.test(v) || Number(v) < 1 || Number(v) > 600_000) {
    throw new InvalidArgumentError('expected milliseconds, a whole number from 1 to 600000.');
  }
  return Number(v);
}

export function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}
