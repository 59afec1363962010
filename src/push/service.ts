import { randomBytes, randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { PushChallenges, PushStartRequest } from '../auth/methods/push.ts';
import {
  type AuditEvent,
  type PushChallenge,
  type PushState,
  pushStateAt,
  type Settings,
  TesseraError,
  type Token,
} from '../model/index.ts';
import type { Store } from '../store/index.ts';
import { deviceConfig, pushSettings } from './settings.ts';

/** What happened to pushes, for metrics: created, limited, approved, denied. */
export type PushEventKind = 'created' | 'limited' | 'approved' | 'denied';

export interface PushServiceDeps {
  store: Store;
  settings: () => Promise<Settings>;
  audit: { record(event: AuditEvent): void };
  /** Counts push events (metrics). */
  observe?: (kind: PushEventKind) => void;
  /** A deny is a security event: the admins hear of it (mail) when configured. */
  onDenied?: (push: PushChallenge) => void;
  now?: () => number;
  /** How often a waiter on another node's answer looks at the store. */
  pollMs?: number;
  /** Wakes the phone (Web Push) for a new push; runs in the background, never holds the login. */
  wake?: (push: PushChallenge) => Promise<unknown>;
}

export interface PushAnswerInput {
  decision: 'approve' | 'deny';
  number?: number;
  userVerified?: boolean;
}

/** Three different two-digit numbers; the login shows one of them. */
function numbersToMatch(): { numbers: number[]; number: number } {
  const set = new Set<number>();
  while (set.size < 3) set.add(randomInt(10, 100));
  const numbers = [...set];
  return { numbers, number: numbers[randomInt(0, 3)] as number };
}

/**
 * Push challenges: created for a login whose first factor is proved, shown to the paired phone
 * (SSE, or a list at app start), answered by the phone's signed approve or deny, then spent by
 * exactly one accept. Everything lives in the store, so any node can create, show or answer a
 * push; the local emitter only makes same-node hand-offs immediate.
 */
export class PushService implements PushChallenges {
  private readonly events = new EventEmitter();
  /** transactionId → push id of the pushes this node created (a held request waits on this node). */
  private readonly byTransaction = new Map<string, string>();
  private readonly now: () => number;

  constructor(private readonly deps: PushServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.events.setMaxListeners(0);
  }

  /** A new pending push for `token`, or null when the user has too many open already. */
  async create(req: PushStartRequest): Promise<PushChallenge | null> {
    const settings = await this.deps.settings();
    const s = pushSettings(settings);
    const config = deviceConfig(req.token, settings);
    const now = this.now();
    const code = req.mode === 'code';
    const push: PushChallenge = {
      id: randomBytes(18).toString('base64url'),
      serial: req.token.serial,
      username: req.token.username,
      clientId: req.client.id,
      context: {
        client: req.client.name,
        system: req.nasIdentifier ?? req.client.name,
        ...(req.sourceIp ? { sourceIp: req.sourceIp } : {}),
        time: now,
      },
      createdAt: now,
      expiresAt: now + s.timeoutSeconds * 1000,
      state: 'pending',
      userVerification: config.userVerification,
      ...(code
        ? { code: String(randomInt(0, 1_000_000)).padStart(6, '0') }
        : config.numberMatching && req.numberMatching !== false
          ? numbersToMatch()
          : {}),
    };
    const created = await this.deps.store.push.createPush(push, s.maxPending, now, 300_000);
    this.deps.observe?.(created ? 'created' : 'limited');
    if (!created) return null;
    if (req.transactionId) {
      this.byTransaction.set(req.transactionId, push.id);
      if (this.byTransaction.size > 50_000)
        this.byTransaction.delete(this.byTransaction.keys().next().value as string);
    }
    this.events.emit(`device:${push.serial}`, push);
    this.deps.wake?.(push).catch(() => {});
    return push;
  }

  /** The push this node created for a login's challenge, if any. */
  pushOf(transactionId: string): string | undefined {
    return this.byTransaction.get(transactionId);
  }

  /**
   * Hold mode: waits for the phone's answer to the push this node created for a login's challenge.
   * True when it is answered or expired (ask the validator again), false after `maxMs`.
   */
  async holdFor(transactionId: string, maxMs: number): Promise<boolean> {
    const id = this.byTransaction.get(transactionId);
    if (!id) return false;
    const push = await this.waitForAnswer(id, maxMs);
    return push !== null && pushStateAt(push, this.now()) !== 'pending';
  }

  /** Code to phone: the code was typed at the login, which approves the push. */
  async approve(id: string): Promise<boolean> {
    const result = await this.deps.store.push.answerPush(id, 'approved', this.now());
    if (result.kind !== 'answered') return false;
    this.deps.observe?.('approved');
    this.events.emit(`answer:${id}`, result.push);
    return true;
  }

  /** The phone's signed answer. Throws PUSH_NOT_PENDING (409) when it is answered or expired. */
  async answer(device: Token, id: string, input: PushAnswerInput): Promise<PushState> {
    const now = this.now();
    const push = await this.deps.store.push.getPush(id);
    if (!push || push.serial !== device.serial)
      throw new TesseraError('PUSH_NOT_PENDING', 'this push is unknown to this device');
    if (pushStateAt(push, now) !== 'pending')
      throw new TesseraError('PUSH_NOT_PENDING', `this push is ${pushStateAt(push, now)} already`);
    let decision: 'approved' | 'denied' = input.decision === 'approve' ? 'approved' : 'denied';
    let why = decision === 'denied' ? 'denied on the phone' : '';
    if (decision === 'approved') {
      if (push.code !== undefined)
        throw new TesseraError(
          'BAD_REQUEST',
          'this login waits for the code shown on the phone, not an approval',
        );
      if (push.userVerification && input.userVerified !== true)
        throw new TesseraError(
          'BAD_REQUEST',
          'an approval needs user verification on the phone (userVerified: true)',
        );
      if (push.number !== undefined && input.number !== push.number) {
        // a wrong pick is how a tricked user answers: it ends the push like a deny
        decision = 'denied';
        why = 'wrong number picked';
      }
    }
    const result = await this.deps.store.push.answerPush(id, decision, now);
    if (result.kind !== 'answered')
      throw new TesseraError('PUSH_NOT_PENDING', 'this push was answered or expired meanwhile');
    this.deps.observe?.(decision);
    this.events.emit(`answer:${id}`, result.push);
    if (decision === 'denied') this.denied(result.push, why, now);
    return decision;
  }

  private denied(push: PushChallenge, why: string, now: number): void {
    const common = {
      time: now,
      actor: `device:${push.serial}`,
      username: push.username,
      serial: push.serial,
      ...(push.context.sourceIp ? { sourceIp: push.context.sourceIp } : {}),
    };
    this.deps.audit.record({
      ...common,
      type: 'validate',
      result: 'reject',
      reason: 'PUSH_DENIED',
      detail: { clientName: push.context.client, method: 'push', why },
    });
    this.deps.audit.record({
      ...common,
      type: 'push.denied',
      result: 'denied',
      reason: 'PUSH_DENIED',
      detail: { client: push.clientId, system: push.context.system, why },
    });
    this.deps.onDenied?.(push);
  }

  get(id: string): Promise<PushChallenge | null> {
    return this.deps.store.push.getPush(id);
  }

  /** Spends an approved push on one accept: true exactly once, on every node together. */
  consume(id: string): Promise<boolean> {
    return this.deps.store.push.consumePush(id);
  }

  /** The pending pushes of one device. */
  async pendingFor(device: Token): Promise<PushChallenge[]> {
    const all = await this.deps.store.push.pendingPushes(device.username, this.now());
    return all.filter((p) => p.serial === device.serial);
  }

  /** Calls `listener` for each push created on this node for `serial`; returns the unsubscribe. */
  onPush(serial: string, listener: (push: PushChallenge) => void): () => void {
    this.events.on(`device:${serial}`, listener);
    return () => this.events.off(`device:${serial}`, listener);
  }

  /**
   * Waits until the push is answered or expired, or `maxMs` passed: an answer on this node wakes
   * the wait at once, one on another node is seen by looking at the store every `pollMs`.
   */
  async waitForAnswer(id: string, maxMs: number): Promise<PushChallenge | null> {
    const deadline = this.now() + maxMs;
    const poll = this.deps.pollMs ?? 100;
    for (;;) {
      const push = await this.get(id);
      const now = this.now();
      if (!push || pushStateAt(push, now) !== 'pending' || now >= deadline) return push;
      const wait = Math.max(1, Math.min(poll, deadline - now, push.expiresAt - now));
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.events.off(`answer:${id}`, done);
          resolve();
        };
        const timer = setTimeout(done, wait);
        this.events.once(`answer:${id}`, done);
      });
    }
  }
}
