import { safeCells } from '../../core/text.js';

/**
 * A table as `kubectl get` and `gh` print one: no borders, columns aligned
 * by spaces. At a terminal the header is upper case (bold where colour is
 * on) and a line longer than the terminal is fitted to it by shortening the
 * widest columns (with …); piped, the plain form scripts read, never cut.
 */
export async function renderTable(head: string[], rawRows: string[][], out: { stdoutTTY: boolean; colorOut: boolean; columns?: number }): Promise<string> {
  // Every cell may hold text from outside (a details file, an endpoint's close reason): shown escaped.
  const rows = safeCells(rawRows);
  if (!out.stdoutTTY) return plainTable(head, rows);
  return terminalTable(head, rows, out.colorOut, out.columns);
}

export function plainTable(head: string[], rows: string[][]): string {
  const all = [head, ...rows];
  const widths = naturalWidths(all);
  return all.map((r) => alignRow(r, widths)).join('\n');
}

/** Each column's widest cell (one pass over the rows: a table may have thousands). */
function naturalWidths(all: string[][]): number[] {
  const widths = all[0]!.map(() => 0);
  for (const r of all) for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i]!, (r[i] ?? '').length);
  return widths;
}

const GAP = 2;
/** The narrowest a column is shortened to when a line must fit the terminal. */
const MIN_WIDTH = 10;

/** Column widths that fit `columns` (when it is known), taking from the widest column first. */
export function fitWidths(natural: readonly number[], columns: number | undefined): number[] {
  const widths = [...natural];
  if (!columns) return widths;
  const total = () => widths.reduce((a, b) => a + b, 0) + GAP * (widths.length - 1);
  while (total() > columns) {
    const widest = widths.indexOf(Math.max(...widths));
    if (widths[widest]! <= MIN_WIDTH) break;
    widths[widest] = Math.max(MIN_WIDTH, widths[widest]! - (total() - columns));
  }
  return widths;
}

export function terminalTable(head: string[], rows: string[][], color: boolean, columns?: number): string {
  const header = head.map((h) => h.toUpperCase());
  const all = [header, ...rows];
  const widths = fitWidths(naturalWidths(all), columns);
  const cut = (r: string[]) => r.map((c, i) => (c.length > widths[i]! ? `${c.slice(0, widths[i]! - 1)}…` : c));
  const top = alignRow(cut(header), widths);
  return [color ? `\x1b[1m${top}\x1b[22m` : top, ...rows.map((r) => alignRow(cut(r), widths))].join('\n');
}

function alignRow(cells: string[], widths: number[]): string {
  return cells
    .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
    .join(' '.repeat(GAP))
    .trimEnd();
}
