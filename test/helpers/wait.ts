/** Resolves when `check` holds, looked at every 50 ms (a state, not an event); rejects after `ms`, saying what was awaited. */
export function until(check: () => boolean, ms: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => {
      clearInterval(t);
      reject(new Error(`not within ${ms} ms: ${what}`));
    }, ms);
    const t = setInterval(() => {
      if (!check()) return;
      clearInterval(t);
      clearTimeout(deadline);
      resolve();
    }, 50);
  });
}
