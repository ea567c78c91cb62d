import type { Context } from '../context.js';

/** The width of the terminal messages go to; unbounded when stderr is not a terminal (nothing wraps in a file). */
export function terminalWidth(ctx: Pick<Context, 'io'>): number {
  if (!ctx.io.stderrTTY) return Infinity;
  return (ctx.io.stderr as { columns?: number }).columns ?? 80;
}

/**
 * Two columns of values under one label column ("pinned now" beside
 * "presented now"); stacked, one block after the other, when the two side by
 * side would not fit the width.
 */
export function sideBySide(heads: [string, string], rows: [string, string, string][], width: number): string {
  const label = Math.max(...rows.map((r) => r[0].length)) + 2;
  const left = Math.max(heads[0].length, ...rows.map((r) => r[1].length)) + 2;
  const right = Math.max(heads[1].length, ...rows.map((r) => r[2].length));
  if (2 + label + left + right <= width) {
    return [['', ...heads] as [string, string, string], ...rows].map(([k, a, b]) => `  ${k.padEnd(label)}${a.padEnd(left)}${b}`.trimEnd()).join('\n');
  }
  const block = (head: string, col: 1 | 2) => [`  ${head}`, ...rows.map((r) => `    ${r[0].padEnd(label)}${r[col]}`)];
  return [...block(heads[0], 1), ...block(heads[1], 2)].join('\n');
}
