// Starts a bench server (bench/serve.ts) in its own Node process and stops it.
import { type ChildProcess, fork } from 'node:child_process';
import type { Profiler } from 'node:inspector';
import type { Ready, ServeSpec } from './serve.ts';

/** A server's event-loop delay (ms) over a run, and its garbage collector's pauses in it. */
export interface LoopFigures {
  p50: number;
  p99: number;
  max: number;
  gcPauses: number;
  gcMs: number;
  gcMaxMs: number;
  majorGcs: number;
}

export interface ServerProcess extends Ready {
  child: ChildProcess;
  /** The process's resident set now. */
  rss(): Promise<number>;
  /** A CPU profile of what the server does between these two calls. */
  profileStart(): Promise<void>;
  profileStop(): Promise<Profiler.Profile>;
  /** The server's event-loop delay (ms) between these two calls. */
  loopStart(): Promise<void>;
  loopStop(): Promise<LoopFigures>;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
// A bench that fails half-way must not leave its servers behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * `profileDir`: run the server under `node --cpu-prof`; the profile is written there when it stops.
 */
export async function startServer(
  spec: ServeSpec,
  opts: { profileDir?: string } = {},
): Promise<ServerProcess> {
  const execArgv = ['--import', 'tsx'];
  if (opts.profileDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`);
  const child = fork(new URL('./serve.ts', import.meta.url).pathname, [JSON.stringify(spec)], {
    execArgv,
    // the node's own log lines go where a service manager would send them: written, not read here
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const ready = await new Promise<Ready>((resolve, reject) => {
    child.once('message', (m) => resolve(m as Ready));
    child.once('exit', (code) =>
      reject(new Error(`bench server ${spec.kind} exited (${code}) before it was ready`)),
    );
  });
  /** One request to the server process and the answer it sends back. */
  const ask = <T>(command: string, answer: (m: unknown) => T) =>
    new Promise<T>((resolve) => {
      child.once('message', (m) => resolve(answer(m)));
      child.send(command);
    });
  return {
    ...ready,
    child,
    rss: () => ask('rss', (m) => (m as { rssBytes: number }).rssBytes),
    profileStart: () => ask('profile-start', () => undefined),
    profileStop: () => ask('profile-stop', (m) => (m as { profile: Profiler.Profile }).profile),
    loopStart: () => ask('loop-start', () => undefined),
    loopStop: () => ask('loop-stop', (m) => (m as { loopDelayMs: LoopFigures }).loopDelayMs),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
