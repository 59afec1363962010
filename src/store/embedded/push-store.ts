import type { Database, RootDatabase } from 'lmdb';
import { type DeviceState, type PairingRecord, type PushChallenge, pushStateAt } from '../../model/index.ts';
import type { PushAnswerResult, PushStore } from '../push-types.ts';

const SEP = '\u0000';

interface Kept<T> {
  value: T;
  /** By the store's clock, like a Redis TTL. */
  until: number;
}

/**
 * Push records in LMDB. Each check-and-change is one write transaction (LMDB serialises writers),
 * and expired entries are swept now and then; reads treat them as gone already.
 */
export class EmbeddedPushStore implements PushStore {
  private readonly pairings: Database<Kept<PairingRecord>, string>;
  private readonly nonces: Database<number, string>;
  private readonly pushes: Database<Kept<PushChallenge>, string>;
  /** `username\0id` → expiresAt of each pending push. */
  private readonly pending: Database<number, string>;
  private readonly devices: Database<DeviceState, string>;

  constructor(private readonly root: RootDatabase) {
    this.pairings = root.openDB({ name: 'pushPairings' });
    this.nonces = root.openDB({ name: 'pushNonces' });
    this.pushes = root.openDB({ name: 'pushes' });
    this.pending = root.openDB({ name: 'pushPending' });
    this.devices = root.openDB({ name: 'deviceStates' });
  }

  async putPairing(pairing: PairingRecord): Promise<void> {
    await this.pairings.put(pairing.hash, { value: pairing, until: pairing.expiresAt });
  }

  async takePairing(hash: string, now: number): Promise<PairingRecord | null> {
    return this.root.transaction(() => {
      const kept = this.pairings.get(hash);
      if (!kept) return null;
      this.pairings.removeSync(hash);
      return kept.value.expiresAt > now ? kept.value : null;
    });
  }

  async dropPairings(serial: string): Promise<void> {
    await this.root.transaction(() => {
      for (const { key, value } of this.pairings.getRange({}))
        if (value.value.serial === serial) this.pairings.removeSync(key);
    });
  }

  async claimNonce(key: string, ttlMs: number): Promise<boolean> {
    return this.root.transaction(() => {
      const now = Date.now();
      const until = this.nonces.get(key);
      if (until !== undefined && until > now) return false;
      this.nonces.putSync(key, now + ttlMs);
      return true;
    });
  }

  async createPush(push: PushChallenge, maxPending: number, now: number, retainMs: number): Promise<boolean> {
    return this.root.transaction(() => {
      let open = 0;
      const prefix = `${push.username}${SEP}`;
      for (const { key, value } of this.pending.getRange({ start: prefix })) {
        if (!key.startsWith(prefix)) break;
        if (value > now) open++;
        else this.pending.removeSync(key);
      }
      if (open >= maxPending) return false;
      this.pushes.putSync(push.id, { value: push, until: push.expiresAt + retainMs });
      this.pending.putSync(`${prefix}${push.id}`, push.expiresAt);
      return true;
    });
  }

  async getPush(id: string): Promise<PushChallenge | null> {
    const kept = this.pushes.get(id);
    return kept && kept.until > Date.now() ? kept.value : null;
  }

  async pendingPushes(username: string, now: number): Promise<PushChallenge[]> {
    const prefix = `${username}${SEP}`;
    const found: PushChallenge[] = [];
    for (const { key, value } of this.pending.getRange({ start: prefix })) {
      if (!key.startsWith(prefix)) break;
      if (value <= now) continue;
      const push = this.pushes.get(key.slice(prefix.length))?.value;
      if (push && pushStateAt(push, now) === 'pending') found.push(push);
    }
    return found.sort((a, b) => a.createdAt - b.createdAt);
  }

  async answerPush(id: string, decision: 'approved' | 'denied', now: number): Promise<PushAnswerResult> {
    return this.root.transaction((): PushAnswerResult => {
      const kept = this.pushes.get(id);
      if (!kept) return { kind: 'not-pending', push: null };
      if (pushStateAt(kept.value, now) !== 'pending') return { kind: 'not-pending', push: kept.value };
      const push: PushChallenge = { ...kept.value, state: decision, answeredAt: now };
      this.pushes.putSync(id, { ...kept, value: push });
      this.pending.removeSync(`${push.username}${SEP}${id}`);
      return { kind: 'answered', push };
    });
  }

  async consumePush(id: string): Promise<boolean> {
    return this.root.transaction(() => {
      const kept = this.pushes.get(id);
      if (kept?.value.state !== 'approved' || kept.value.consumed) return false;
      this.pushes.putSync(id, { ...kept, value: { ...kept.value, consumed: true } });
      return true;
    });
  }

  async getDeviceState(serial: string): Promise<DeviceState | null> {
    return this.devices.get(serial) ?? null;
  }

  async putDeviceState(state: DeviceState): Promise<void> {
    await this.devices.put(state.serial, state);
  }

  /** Drops what expired; called by the store's sweeper. */
  sweep(now: number): Promise<void> {
    return this.root.transaction(() => {
      for (const { key, value } of this.nonces.getRange({})) if (value <= now) this.nonces.removeSync(key);
      for (const { key, value } of this.pairings.getRange({}))
        if (value.until <= now) this.pairings.removeSync(key);
      for (const { key, value } of this.pushes.getRange({}))
        if (value.until <= now) this.pushes.removeSync(key);
      for (const { key, value } of this.pending.getRange({})) if (value <= now) this.pending.removeSync(key);
    });
  }
}
