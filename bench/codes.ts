// The benchmarks' TOTP seed and a code source that computes each step's code once: the load
// generator shares the CPU with the server it measures.
import { base32Decode, totpAt } from '../src/otp/index.ts';

export const BENCH_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

const params = {
  secret: base32Decode(BENCH_SECRET)!,
  algorithm: 'SHA1' as const,
  digits: 6 as const,
  period: 30 as const,
};

export function benchCodes(): (step: number) => string {
  const codes = new Map<number, string>();
  return (step) => {
    let c = codes.get(step);
    if (c === undefined) {
      c = totpAt(params, step);
      codes.set(step, c);
    }
    return c;
  };
}

/** The seed itself, for benchmarks that enrol tokens straight into a store. */
export const BENCH_SECRET_BYTES: Uint8Array = params.secret;
