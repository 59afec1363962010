// An open-loop load generator for latency at a given rate: requests leave on a fixed schedule
// whatever the server does, and each latency counts from the moment its request was due. A closed
// loop (wrk, each connection waiting for its answer and then a pause) sends less while the server
// stalls and so hides the stall from its percentiles; this one does not.
import { connect, type Socket } from 'node:net';
import { timeStep } from '../src/otp/index.ts';
import { benchCodes } from './codes.ts';
import type { WrkTarget } from './wrk.ts';

export interface OpenLoopFigures {
  offered: number;
  seconds: number;
  sent: number;
  acceptsPerSecond: number;
  accepts: number;
  rejects: number;
  failures: number;
  /** Requests that found every connection busy and waited for one (counted in their latency). */
  queued: number;
  p50ms: number;
  p90ms: number;
  p99ms: number;
  maxMs: number;
  /**
   * How late the generator's own timer issued requests (issue time minus due time, whether a
   * connection was free or not; part of the latency above): large values mean the generator, not
   * the server, was behind.
   */
  sendLagMs: { p50: number; p99: number; max: number };
  /** The generator process's CPU over the run, as a share of one core. */
  generatorCpu: number;
}

interface Pending {
  due: number;
  body: string;
  /** False for the lead-in's requests: sent, answered, not counted. */
  measured: boolean;
}

const codeAt = benchCodes();
const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]! : 0;

/** One keep-alive connection with at most one request in flight. */
class Conn {
  private buffer = '';
  private current: Pending | null = null;
  busy = false;
  constructor(
    readonly socket: Socket,
    private readonly done: (conn: Conn, status: number, body: string, p: Pending) => void,
  ) {
    socket.setNoDelay(true);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => this.read(chunk));
  }
  send(head: string, p: Pending): void {
    this.busy = true;
    this.current = p;

    this.socket.write(head + Buffer.byteLength(p.body) + '\r\n\r\n' + p.body);
  }
  private read(chunk: string): void {
    this.buffer += chunk;
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.buffer.slice(0, end);
    const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    if (this.buffer.length < end + 4 + length) return;
    const body = this.buffer.slice(end + 4, end + 4 + length);
    this.buffer = this.buffer.slice(end + 4 + length);
    this.busy = false;
    this.done(this, Number(head.slice(9, 12)), body, this.current!);
  }
}

/**
 * Offers `rate` requests per second for `seconds` to POST /v1/validate, each with a fresh valid
 * code (user i of the slice gets the codes of steps s-1, s, s+1 in turn, as bench/wrk-validate.lua).
 *
 * `leadInSeconds`: the same schedule runs that long first, answered and not counted, in the same
 * run (no pause between). A node that sat idle has had its young generation shrunk by V8 (32 MB
 * down to 1 MB here); while it grows back, about a second, scavenges come every few ms and promote
 * what is in flight, which brings mark-compacts. That is the step from idle to this rate, not the
 * rate. `onMeasured` is called when the counted part starts.
 */
export async function openLoop(
  target: WrkTarget,
  opts: {
    rate: number;
    seconds: number;
    connections?: number;
    leadInSeconds?: number;
    onMeasured?: () => void;
  },
): Promise<OpenLoopFigures> {
  const leadIn = opts.leadInSeconds ?? 0;
  const left = 30_000 - (Date.now() % 30_000);
  if (left < (leadIn + opts.seconds + 2) * 1000) await new Promise((r) => setTimeout(r, left + 100));
  const s = timeStep(Date.now(), 30);
  const codes = [s - 1, s, s + 1].map(codeAt);
  const unmeasured = Math.round(opts.rate * leadIn);
  const total = unmeasured + Math.round(opts.rate * opts.seconds);
  if (total > target.users * 3) throw new Error('the open-loop run would use up its fresh codes');
  const body = (i: number) =>
    `{"user":"${target.prefix}${target.first + (i % target.users)}","pass":"${codes[Math.floor(i / target.users)]}"}`;
  const head =
    `POST ${target.path ?? '/v1/validate'} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
    (target.apiKey ? `Authorization: Bearer ${target.apiKey}\r\n` : '') +
    'Content-Type: application/json\r\nContent-Length: ';
  const latencies: number[] = [];
  const lag: number[] = [];
  let accepts = 0;
  let rejects = 0;
  let failures = 0;
  let queued = 0;
  const waiting: Pending[] = [];
  let finish: () => void = () => {};
  const finished = new Promise<void>((r) => {
    finish = r;
  });
  let answered = 0;
  const onAnswer = (conn: Conn, status: number, text: string, p: Pending) => {
    answered++;
    if (p.measured) {
      latencies.push(performance.now() - p.due);
      if (status !== 200) failures++;
      else if (text.includes('"result":"accept"')) accepts++;
      else rejects++;
    }
    const next = waiting.shift();
    if (next) conn.send(head, next);
    if (answered === total) finish();
  };
  const conns = await Promise.all(
    Array.from(
      { length: opts.connections ?? 64 },
      () =>
        new Promise<Conn>((resolve, reject) => {
          const socket = connect(target.port, '127.0.0.1');
          socket.once('connect', () => resolve(new Conn(socket, onAnswer)));
          socket.once('error', reject);
        }),
    ),
  );
  let cpu0 = process.cpuUsage();
  const start = performance.now();
  const interval = 1000 / opts.rate;
  // the counted part's start: elapsed time, CPU and the lateness figures count from here
  let t0 = start + unmeasured * interval;
  let issued = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (issued < total && start + issued * interval <= now) {
        const measured = issued >= unmeasured;
        if (issued === unmeasured) {
          cpu0 = process.cpuUsage();
          t0 = start + issued * interval;
          opts.onMeasured?.();
        }
        const p = { due: start + issued * interval, body: body(issued++), measured };
        const free = conns.find((c) => !c.busy);
        if (measured) lag.push(now - p.due);
        if (free) free.send(head, p);
        else {
          if (measured) queued++;
          waiting.push(p);
        }
      }
      if (issued < total) setTimeout(tick, Math.max(0, start + issued * interval - performance.now()));
      else resolve();
    };
    tick();
  });
  const timeout = setTimeout(finish, 10_000);
  await finished;
  clearTimeout(timeout);
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  for (const c of conns) c.socket.destroy();
  failures += total - unmeasured - latencies.length;
  latencies.sort((a, b) => a - b);
  lag.sort((a, b) => a - b);
  const ms = (x: number) => +x.toFixed(2);
  return {
    offered: Math.round(opts.rate),
    seconds: +elapsed.toFixed(2),
    sent: issued - unmeasured,
    acceptsPerSecond: Math.round(accepts / elapsed),
    accepts,
    rejects,
    failures,
    queued,
    p50ms: ms(percentile(latencies, 0.5)),
    p90ms: ms(percentile(latencies, 0.9)),
    p99ms: ms(percentile(latencies, 0.99)),
    maxMs: ms(latencies[latencies.length - 1] ?? 0),
    sendLagMs: {
      p50: ms(percentile(lag, 0.5)),
      p99: ms(percentile(lag, 0.99)),
      max: ms(lag[lag.length - 1] ?? 0),
    },
    generatorCpu: +((cpu.user + cpu.system) / 1e6 / elapsed).toFixed(2),
  };
}
