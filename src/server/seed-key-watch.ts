import { checkSeedKeys, explainSeedKeyMismatch, type KeyRing, type SealedSample } from '../crypto/index.ts';
import type { Store } from '../store/index.ts';
import type { Logger } from './services.ts';

/** How many sealed seeds a check opens, and how many users it looks through to find them. */
const SAMPLE_SEEDS = 16;
const SAMPLE_USERS = 64;
const CHECK_EVERY_MS = 5_000;

export interface ReadinessProblem {
  code: string;
  message: string;
}

/** The first sealed seeds of the store: a few reads, whatever the store's size. */
export async function sampleSealedSeeds(
  store: Pick<Store, 'listUsers' | 'listTokens'>,
  limit = SAMPLE_SEEDS,
): Promise<SealedSample[]> {
  const { items } = await store.listUsers({ limit: SAMPLE_USERS });
  const out: SealedSample[] = [];
  for (const user of items) {
    for (const t of await store.listTokens(user.username))
      out.push({ sealed: t.secretSealed, aad: t.serial });
    if (out.length >= limit) break;
  }
  return out.slice(0, limit);
}

/**
 * Keeps asking whether this node's seed key opens the seeds its store holds (a replica receives the
 * master's seeds, sealed with the master's key). While it cannot, the node is not ready and says
 * why, once in the log when it is found and once when it is healed.
 */
export class SeedKeyWatch {
  private problemNow: ReadinessProblem | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly store: Pick<Store, 'listUsers' | 'listTokens'>,
    private readonly ring: KeyRing,
    private readonly log: Logger,
    private readonly everyMs = CHECK_EVERY_MS,
  ) {}

  /** Checks once now (the start log says what is wrong), then every few seconds. */
  async start(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  problem(): ReadinessProblem | null {
    return this.problemNow;
  }

  /** One check (replication events call it too); concurrent calls share one run. */
  check(): Promise<void> {
    this.running ??= this.run().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async run(): Promise<void> {
    let samples: SealedSample[];
    try {
      samples = await sampleSealedSeeds(this.store);
    } catch {
      return; // the store is unreachable: readiness says so on its own
    }
    const verdict = checkSeedKeys(this.ring, samples);
    const before = this.problemNow;
    if (verdict.ok) {
      this.problemNow = null;
      if (before) this.log.info({ checked: verdict.checked }, 'the seed key opens the stored seeds again');
      return;
    }
    const message = explainSeedKeyMismatch(verdict);
    this.problemNow = { code: 'SEED_KEY_MISMATCH', message };
    if (!before)
      this.log.error(
        { missingKeyIds: verdict.missingKeyIds, wrongKeyIds: verdict.wrongKeyIds, checked: verdict.checked },
        `not ready: ${message}`,
      );
  }
}
