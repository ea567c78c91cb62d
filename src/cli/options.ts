import { InvalidArgumentError } from 'commander';

/** A positive whole number of milliseconds. */
export function parseTimeout(value: string): number {
  if (!/^[0-9]+$/.test(value) || Number(value) < 1 || Number(value) > 600_000) {
    throw new InvalidArgumentError('expected milliseconds, a whole number from 1 to 600000.');
  }
  return Number(value);
}

export function collect(value: string, prev: string[] = []): string[] {
  return [...prev, value];
}
