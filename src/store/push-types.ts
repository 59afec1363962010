import type { DeviceState, PairingRecord, PushChallenge } from '../model/index.ts';

/** How a push answer ended in the store. */
export type PushAnswerResult =
  | { kind: 'answered'; push: PushChallenge }
  | { kind: 'not-pending'; push: PushChallenge | null };

/**
 * Push approval's records (src/push): pairing tokens, request nonces, push challenges and device
 * run-time state. Every node writes them (like challenges, they are authentication state), and
 * each check-and-change is one atomic step, so any node can answer what another created.
 */
export interface PushStore {
  /** Keeps a pairing token (by its hash) until its expiry. */
  putPairing(pairing: PairingRecord): Promise<void>;
  /** Returns and removes it in one step: single use. Null when unknown or expired at `now`. */
  takePairing(hash: string, now: number): Promise<PairingRecord | null>;
  /** Removes every pairing token of a serial (a new one replaces them). */
  dropPairings(serial: string): Promise<void>;
  /** True the first time `key` is claimed within `ttlMs`; false on every later claim (a replay). */
  claimNonce(key: string, ttlMs: number): Promise<boolean>;
  /**
   * Stores a pending push unless its user has `maxPending` pending pushes not expired at `now`
   * (false, nothing stored). Kept `retainMs` past its expiry, so a late answer reads as expired.
   */
  createPush(push: PushChallenge, maxPending: number, now: number, retainMs: number): Promise<boolean>;
  getPush(id: string): Promise<PushChallenge | null>;
  /** The user's pending pushes not expired at `now`, oldest first. */
  pendingPushes(username: string, now: number): Promise<PushChallenge[]>;
  /** Atomically: a pending push not expired at `now` becomes approved or denied; otherwise nothing changes. */
  answerPush(id: string, decision: 'approved' | 'denied', now: number): Promise<PushAnswerResult>;
  /** Atomically marks an approved push as spent: true exactly once. */
  consumePush(id: string): Promise<boolean>;
  getDeviceState(serial: string): Promise<DeviceState | null>;
  putDeviceState(state: DeviceState): Promise<void>;
}
