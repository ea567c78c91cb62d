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

/** Resolves when the asynchronous `check` holds (asked again 50 ms after each answer); rejects after `ms`, saying what was awaited. */
export async function untilAsync(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
