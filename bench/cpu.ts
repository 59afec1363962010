// CPU time a process used (user + system, from /proc), so a bench can report CPU per accept
// beside throughput: on a shared machine the first moves far less with the neighbours' load.
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** Milliseconds of CPU the process has used so far (0 where /proc is not there). */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** CPU microseconds per accept of each named process over `run`. */
export async function cpuPerAccept<T extends { accepts: number }>(
  pids: Record<string, number>,
  run: () => Promise<T>,
): Promise<T & { cpuUsPerAccept: Record<string, number> }> {
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMs(pid)]));
  const figures = await run();
  const cpuUsPerAccept = Object.fromEntries(
    Object.entries(pids).map(([k, pid]) => [
      k,
      Math.round(((cpuMs(pid) - before[k]!) * 1000) / Math.max(1, figures.accepts)),
    ]),
  );
  return { ...figures, cpuUsPerAccept };
}
