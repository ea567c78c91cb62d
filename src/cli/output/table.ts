import { safeText } from '../../core/text.js';

/**
 * A table: borders and a bold header on a terminal (cli-table3, loaded only
 * then); plain space-aligned columns otherwise (for scripts, and fast).
 */
export async function renderTable(head: string[], rawRows: string[][], out: { stdoutTTY: boolean; colorOut: boolean }): Promise<string> {
  // Every cell may hold text from outside (a details file, an endpoint's close reason): shown escaped.
  const rows = rawRows.map((r) => r.map(safeText));
  if (!out.stdoutTTY) return plainTable(head, rows);
  const { boxTable } = await import('./box-table.js');
  return boxTable(head, rows, out.colorOut);
}

export function plainTable(head: string[], rows: string[][]): string {
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
