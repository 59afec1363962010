import { Agent, request } from 'node:http';

export interface LoadResult {
  requests: number;
  seconds: number;
  perSecond: number;
  p50ms: number;
  p90ms: number;
  p99ms: number;
  errors: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Keeps `concurrency` keep-alive requests in flight for `seconds` against one URL. `body(i)` gives
 * each request's JSON; `check` says whether an answer counts as a success.
 */
export async function load(opts: {
  url: string;
  headers: Record<string, string>;
  body: (i: number) => string | undefined;
  method?: string;
  seconds: number;
  concurrency: number;
  check?: (status: number, text: string) => boolean;
}): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const target = new URL(opts.url);
  const latencies: number[] = [];
  let errors = 0;
  let issued = 0;
  const deadline = Date.now() + opts.seconds * 1000;
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const payload = opts.body(i);
      const started = process.hrtime.bigint();
      const req = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: opts.method ?? 'POST',
          headers: { ...opts.headers, ...(payload ? { 'content-type': 'application/json' } : {}) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            text += c;
          });
          res.on('end', () => {
            latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
            if (opts.check && !opts.check(res.statusCode ?? 0, text)) errors++;
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(payload);
    });
  const started = Date.now();
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (Date.now() < deadline) await one(issued++);
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    seconds,
    perSecond: Math.round(latencies.length / seconds),
    p50ms: +percentile(latencies, 50).toFixed(2),
    p90ms: +percentile(latencies, 90).toFixed(2),
    p99ms: +percentile(latencies, 99).toFixed(2),
    errors,
  };
}
