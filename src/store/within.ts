// Waiting with a bound: used by the Redis links and Sentinel watch, the planned switchover, and by
// the CLI closing its store.

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}

/** `p`, or undefined when it takes longer than `ms` (p's own failure is swallowed then). */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((r) => {
    timer = setTimeout(() => r(undefined), ms);
  });
  p.catch(() => {});
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
