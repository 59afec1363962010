import { base32Decode, hotp, timeStep, totpAt } from '../../src/otp/index.ts';

/** The current TOTP code (SHA1, 6 digits, 30 s unless said) for a base32 secret, as an app shows it. */
export function totpNow(
  secret: string,
  opts: { offsetSteps?: number; digits?: 6 | 8; period?: 30 | 60 } = {},
): string {
  const period = opts.period ?? 30;
  const step = timeStep(Date.now(), period) + (opts.offsetSteps ?? 0);
  return totpAt({ secret: base32Decode(secret)!, algorithm: 'SHA1', digits: opts.digits ?? 6, period }, step);
}

export function hotpAt(secret: string, counter: number): string {
  return hotp({ secret: base32Decode(secret)!, algorithm: 'SHA1', digits: 6 }, counter);
}

/** Waits until at least `marginMs` remain in the current TOTP step, so a test's codes stay valid. */
export async function awaitFreshStep(marginMs = 5000, period = 30): Promise<void> {
  const left = period * 1000 - (Date.now() % (period * 1000));
  if (left < marginMs) await new Promise((r) => setTimeout(r, left + 50));
}
