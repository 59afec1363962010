/** How a secret shows in `tessera config` and in a refused value's message. */
export const MASK = '********';

/** A URL with its password and every query value masked; text that is no URL is masked whole. */
export function maskUrl(text: string): string {
  try {
    const u = new URL(text);
    if (u.password) u.password = MASK;
    for (const key of [...u.searchParams.keys()]) u.searchParams.set(key, MASK);
    return u.toString();
  } catch {
    return MASK;
  }
}
