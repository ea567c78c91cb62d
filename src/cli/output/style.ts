import { Chalk } from 'chalk';

export interface Style {
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

export function makeStyle(color: boolean): Style {
  const c = new Chalk({ level: color ? 1 : 0 });
  return { red: c.red, yellow: c.yellow, green: c.green, bold: c.bold, dim: c.dim };
}
