import type { AuditStream, Store } from '../store/index.ts';
import { type VerifyResult, verifyChain } from './chain.ts';
import type { AuditKeys } from './keys.ts';

/**
 * Verifies one chained stream as the store holds it, from `from` to `to` (times, inclusive; the
 * whole kept chain without them). The first entry follows the one before the range, or the anchor
 * retention left; without `to`, the chain must also reach the last entry the store appended.
 */
export async function verifyStream(
  store: Store,
  keys: AuditKeys,
  stream: AuditStream,
  range: { from?: number; to?: number } = {},
): Promise<VerifyResult> {
  if (!store.readAuditChain) throw new Error(`the ${store.kind} store keeps no audit chain`);
  const view = await store.readAuditChain(stream, range);
  return verifyChain(
    {
      stream,
      before: view.before ?? view.anchor,
      entries: view.entries,
      head: range.to === undefined ? view.head : null,
    },
    keys,
  );
}

/** One line for the operator. */
export function describeResult(r: VerifyResult): string {
  if (r.ok) {
    const legacy = r.unsigned ? `; ${r.unsigned} older entries from before the chain are not covered` : '';
    return r.checked === 0
      ? `${r.stream}: ok, no signed entries in range${legacy}`
      : `${r.stream}: ok, ${r.checked} entries (${r.first}..${r.last})${legacy}`;
  }
  return `${r.stream}: BROKEN at entry ${r.seq}: ${r.problem}`;
}
