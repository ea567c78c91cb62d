/**
 * A table: cli-table3's borders and bold header on a terminal; plain
 * space-aligned columns otherwise (for scripts, and fast: no width library).
 */
export async function renderTable(head: string[], rows: string[][], out: { stdoutTTY: boolean; colorOut: boolean }): Promise<string> {
  if (!out.stdoutTTY) return plainTable(head, rows);
  const { default: Table } = await import('cli-table3');
  const t = new Table({ head, style: { head: out.colorOut ? ['bold'] : [], border: [] } });
  t.push(...rows);
  return t.toString();
}

export function plainTable(head: string[], rows: string[][]): string {
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}
