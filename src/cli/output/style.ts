import { Chalk } from 'chalk';

export interface Style {
  red(text: string): string;
  yellow(text: string): string;
  green(text: string): string;
  bold(text: string): string;
  dim(text: string): string;
}

export function makeStyle(color: boolean): Style {
  const chalk = new Chalk({ level: color ? 1 : 0 });
  return { red: chalk.red, yellow: chalk.yellow, green: chalk.green, bold: chalk.bold, dim: chalk.dim };
}
