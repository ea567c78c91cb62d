/**
 * A table: borders and a bold header on a terminal (cli-table3, loaded only
 * then); plain space-aligned columns otherwise (for scripts, and fast).
 */
export async function renderTable(head: string[], rows: string[][], out: { stdoutTTY: boolean; colorOut: boolean }): Promise<string> {
  if (!out.stdoutTTY) return plainTable(head, rows);
  const { boxTable } = await import('./box-table.js');
  return boxTable(head, rows, out.colorOut);
}

export function plainTable(head: string[], rows: string[][]): string {
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}
