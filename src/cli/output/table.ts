import Table from 'cli-table3';

const PLAIN = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '',
  right: '', 'right-mid': '', middle: '  ',
};

/** A table: borders and a bold header on a terminal, plain aligned columns otherwise. */
export function renderTable(head: string[], rows: string[][], tty: boolean): string {
  const t = tty
    ? new Table({ head, style: { head: ['bold'], border: [] } })
    : new Table({ head, chars: PLAIN, style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 } });
  t.push(...rows);
  return t
    .toString()
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');
}
