import Table from 'cli-table3';

/** cli-table3 with borders, for a terminal. */
export function boxTable(head: string[], rows: string[][], color: boolean): string {
  const t = new Table({ head, style: { head: color ? ['bold'] : [], border: [] } });
  t.push(...rows);
  return t.toString();
}
