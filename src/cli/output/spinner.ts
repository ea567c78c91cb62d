import type { Context } from '../context.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** A spinner on stderr while `work` runs, only on a terminal. */
export async function withSpinner<T>(ctx: Context, label: string, work: () => Promise<T>): Promise<T> {
  if (!ctx.io.stderrTTY) return work();
  let frame = 0;
  const draw = () => ctx.io.stderr.write(`\r${ctx.style.dim(FRAMES[frame++ % FRAMES.length]!)} ${label}…`);
  draw();
  const timer = setInterval(draw, 80);
  try {
    return await work();
  } finally {
    clearInterval(timer);
    ctx.io.stderr.write('\r\u001b[2K');
  }
}
