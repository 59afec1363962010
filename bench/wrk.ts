// Drives one bench server with wrk (a separate, efficient load generator) and fresh TOTP codes.
import { execFile } from 'node:child_process';
import { timeStep } from '../src/otp/index.ts';
import { ensureDebianPackages } from '../test/harness/debian.ts';
import { benchCodes } from './codes.ts';

export interface WrkFigures {
  requests: number;
  seconds: number;
  /** Accepted codes per second: the figure. */
  acceptsPerSecond: number;
  accepts: number;
  /** Answered, but not an accept (in an accept run this fails the run). */
  rejects: number;
  /** Non-200 answers and socket errors. */
  failures: number;
  p50ms: number;
  p90ms: number;
  p99ms: number;
}

export interface WrkTarget {
  port: number;
  /** Another product's check route (bench/peers.ts): its path, user field and accept marker. */
  path?: string;
  userField?: string;
  acceptMarker?: string;
  apiKey: string;
  /** The users `<prefix><first + i>`, i < users, that this run may spend (three codes each). */
  prefix: string;
  first: number;
  users: number;
}

export const WRK_CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);

/** wrk from Debian (installed when missing, as the test harness does for its services). */
export function ensureWrk(): void {
  ensureDebianPackages(['wrk']);
}

/** Waits until `ms` are left in the current TOTP step, so a run never straddles two steps. */
async function awaitStepRoom(ms: number): Promise<void> {
  const left = 30_000 - (Date.now() % 30_000);
  if (left < ms) await new Promise((r) => setTimeout(r, left + 100));
}

const codeAt = benchCodes();

/**
 * One wrk run of `seconds` against POST /v1/validate. Every request carries a fresh, valid code:
 * user i of the slice gets the codes of steps s-1, s, s+1 (the ±1 window of the step s the run
 * lies in) in that order, `users` requests apart. With `mustAccept`, anything but an accept fails
 * the run loudly: a reject means the bench is measuring the wrong thing.
 */
export async function runWrk(
  target: WrkTarget,
  opts: { seconds: number; connections?: number; delayMs?: number; mustAccept?: boolean; pin?: string },
): Promise<WrkFigures> {
  await awaitStepRoom((opts.seconds + 2) * 1000);
  const s = timeStep(Date.now(), 30);
  const codes = [s - 1, s, s + 1].map(codeAt).join(',');
  const args = [
    '-t1',
    `-c${opts.connections ?? WRK_CONNECTIONS}`,
    `-d${opts.seconds}s`,
    '--timeout',
    '5s',
    '-s',
    new URL('./wrk-validate.lua', import.meta.url).pathname,
    `http://127.0.0.1:${target.port}`,
    '--',
    target.path ?? '/v1/validate',
    target.apiKey || '-',
    target.prefix,
    String(target.first),
    String(target.users),
    codes,
    String(opts.delayMs ?? 0),
    opts.pin ?? '-',
    target.userField ?? 'user',
    target.acceptMarker ?? '"result":"accept"',
  ];
  const out = await new Promise<string>((resolve, reject) =>
    execFile('wrk', args, { maxBuffer: 1 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`wrk failed: ${stderr || err.message}`)) : resolve(stdout),
    ),
  );
  const line = out.split('\n').find((l) => l.startsWith('WRK-RESULT '));
  if (!line) throw new Error(`wrk printed no result:\n${out}`);
  const r = JSON.parse(line.slice('WRK-RESULT '.length)) as {
    requests: number;
    durationUs: number;
    accepts: number;
    rejects: number;
    failures: number;
    exhausted: number;
    socketErrors: number;
    p50us: number;
    p90us: number;
    p99us: number;
  };
  if (r.exhausted > 0) {
    throw new Error(
      `the run used up its fresh codes (${r.exhausted} requests past the third round of ${target.users} users): raise BENCH_USERS_PER_RUN`,
    );
  }
  const seconds = r.durationUs / 1e6;
  const figures: WrkFigures = {
    requests: r.requests,
    seconds: +seconds.toFixed(2),
    acceptsPerSecond: Math.round(r.accepts / seconds),
    accepts: r.accepts,
    rejects: r.rejects,
    failures: r.failures + r.socketErrors,
    p50ms: +(r.p50us / 1000).toFixed(2),
    p90ms: +(r.p90us / 1000).toFixed(2),
    p99ms: +(r.p99us / 1000).toFixed(2),
  };
  if (opts.mustAccept !== false && (figures.rejects > 0 || figures.failures > 0)) {
    throw new Error(
      `an accept run got ${figures.rejects} rejects and ${figures.failures} failures of ${figures.requests} requests: the bench would count answers, not accepts`,
    );
  }
  return figures;
}
