import type { KeyRing } from './keyring.ts';

/** One sealed seed and the associated data it was sealed with (a token's serial). */
export interface SealedSample {
  sealed: string;
  aad: string;
}

export type SeedKeyVerdict =
  | { ok: true; checked: number }
  | {
      ok: false;
      checked: number;
      /** Key ids the sealed values name that this ring does not have at all. */
      missingKeyIds: string[];
      /** Key ids this ring has, but whose material opened none of their values (another key). */
      wrongKeyIds: string[];
    };

/**
 * Whether this key ring can open a sample of the seeds a store holds. Judged per key id: a key is
 * wrong when it opens none of its values, so one damaged record does not make a node unready,
 * while a node given another seed key (a fresh `master.key`, another `TESSERA_MASTER_KEY`, both
 * named "env") is found by its first few tokens. Nothing secret is in the verdict.
 */
export function checkSeedKeys(ring: KeyRing, samples: readonly SealedSample[]): SeedKeyVerdict {
  const byKey = new Map<string, { opened: number; tried: number }>();
  for (const s of samples) {
    const id = ring.keyIdOf(s.sealed) ?? '(unreadable)';
    const tally = byKey.get(id) ?? { opened: 0, tried: 0 };
    tally.tried++;
    if (ring.open(s.sealed, s.aad)) tally.opened++;
    byKey.set(id, tally);
  }
  const missingKeyIds: string[] = [];
  const wrongKeyIds: string[] = [];
  for (const [id, t] of byKey) {
    if (t.opened > 0) continue;
    if (ring.hasKey(id)) wrongKeyIds.push(id);
    else missingKeyIds.push(id);
  }
  if (missingKeyIds.length === 0 && wrongKeyIds.length === 0) return { ok: true, checked: samples.length };
  return { ok: false, checked: samples.length, missingKeyIds, wrongKeyIds };
}

/** The key ids a failed verdict names, and why each fails (ids are labels, not secrets). */
export function describeSeedKeyIds(verdict: Extract<SeedKeyVerdict, { ok: false }>): string {
  return [
    ...verdict.missingKeyIds.map((id) => `"${id}" (not in this node's key ring)`),
    ...verdict.wrongKeyIds.map((id) => `"${id}" (this node has another key under that id)`),
  ].join(', ');
}

/** What an operator reads in the log and in /readyz when the verdict is not ok (no secrets). */
export function explainSeedKeyMismatch(verdict: Extract<SeedKeyVerdict, { ok: false }>): string {
  const ids = describeSeedKeyIds(verdict);
  return (
    `this node's seed key cannot open the token seeds in its store (seed key ${ids}), so it would ` +
    'refuse every code. Give it the seed key of the node that wrote them: the same TESSERA_MASTER_KEY ' +
    "as the other nodes, or a copy of their master.key in this node's data directory (mode 0600), " +
    'then restart it.'
  );
}
