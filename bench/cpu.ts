// CPU time a process used (user + system, from /proc), so a bench can report CPU per accept
// beside throughput: on a shared machine the first moves far less with the neighbours' load.
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** Milliseconds of CPU the process has used so far (0 where /proc is not there). */
export function cpuMs(pid: number): number {
  return cpuFields(String(pid), 11);
}

/**
 * The sum of two adjacent tick fields of /proc/<of>/stat (0-based after the command), in ms; `of` is
 * a pid, `self`, or `<pid>/task/<tid>` for one thread.
 */
function cpuFields(of: string, first: number): number {
  try {
    const stat = readFileSync(`/proc/${of}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[first]) + Number(fields[first + 1])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/**
 * Milliseconds of CPU the process's main thread has used so far: a Node server's JavaScript, which
 * one core bounds, apart from its other threads (LMDB's writer and libuv's pool).
 */
export function mainThreadCpuMs(pid: number): number {
  return cpuFields(`${pid}/task/${pid}`, 11);
}

/**
 * Milliseconds of CPU used so far by this process's children that have exited and been waited for
 * (cutime + cstime): a tool the bench runs to completion, such as radclient.
 */
export function exitedChildrenCpuMs(): number {
  return cpuFields('self', 13);
}

/** A process by its pid, or any reading of CPU milliseconds used so far (mainThreadCpuMs...). */
export type CpuSource = number | (() => number);

const readCpu = (source: CpuSource) => (typeof source === 'number' ? cpuMs(source) : source());

/** CPU microseconds per accept of each named process (or reading) over `run`. */
export async function cpuPerAccept<T extends { accepts: number }>(
  sources: Record<string, CpuSource>,
  run: () => Promise<T>,
): Promise<T & { cpuUsPerAccept: Record<string, number> }> {
  const before = Object.fromEntries(Object.entries(sources).map(([k, source]) => [k, readCpu(source)]));
  const figures = await run();
  const cpuUsPerAccept = Object.fromEntries(
    Object.entries(sources).map(([k, source]) => [
      k,
      Math.round(((readCpu(source) - before[k]!) * 1000) / Math.max(1, figures.accepts)),
    ]),
  );
  return { ...figures, cpuUsPerAccept };
}
