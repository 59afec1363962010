import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AdminRole } from '../../src/model/index.ts';

/**
 * A console session, held by the node that signed it in (a person signs in again on another
 * node). `stage` says how far the sign-in got: only `in` reaches a page.
 */
export interface ConsoleSession {
  id: string;
  /** The form token of this session: every POST carries it. */
  csrf: string;
  username: string;
  role: AdminRole;
  stage: 'code' | 'enrol' | 'in';
  /** The seed shown for enrolment, until a code from it is right. */
  pendingSecret?: Uint8Array;
  /** A message for the next page (one redirect). */
  flash?: string;
  /** A secret shown once on the next page (a new client key), then dropped. */
  reveal?: { label: string; value: string };
  createdAt: number;
  lastSeen: number;
}

export type SessionLookup = { session: ConsoleSession } | { expired: true } | null;

export function randomToken(): string {
  return randomBytes(24).toString('base64url');
}

export function sameToken(a: string | undefined, b: string): boolean {
  if (typeof a !== 'string') return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Sessions exist only after a right password, so their number is bounded by the accounts. */
const MAX_SESSIONS = 5_000;
/** A sign-in left between the password and the code is dropped after this long. */
const PENDING_MS = 5 * 60_000;

export class SessionStore {
  private readonly sessions = new Map<string, ConsoleSession>();
  /** Ids that ended recently, so a stale cookie gets "expired" rather than a bare sign-in page. */
  private readonly ended = new Map<string, number>();

  constructor(
    private readonly idleMs: number,
    private readonly maxMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  create(username: string, role: AdminRole, stage: ConsoleSession['stage']): ConsoleSession {
    const now = this.now();
    if (this.sessions.size >= MAX_SESSIONS) this.end(this.sessions.keys().next().value as string);
    const session: ConsoleSession = {
      id: randomToken(),
      csrf: randomToken(),
      username,
      role,
      stage,
      createdAt: now,
      lastSeen: now,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session of this id (touched), "expired" for one that ended, or null. */
  get(id: string | undefined): SessionLookup {
    if (!id) return null;
    const session = this.sessions.get(id);
    if (!session) return this.ended.has(id) ? { expired: true } : null;
    const now = this.now();
    const idle = session.stage === 'in' ? this.idleMs : PENDING_MS;
    if (now - session.lastSeen > idle || now - session.createdAt > this.maxMs) {
      this.end(id);
      return { expired: true };
    }
    session.lastSeen = now;
    return { session };
  }

  /** A new id for the same session (after each sign-in step), so an id seen before is worthless. */
  promote(session: ConsoleSession, stage: ConsoleSession['stage']): ConsoleSession {
    this.sessions.delete(session.id);
    const next: ConsoleSession = { ...session, id: randomToken(), csrf: randomToken(), stage };
    delete next.pendingSecret;
    next.lastSeen = this.now();
    this.sessions.set(next.id, next);
    return next;
  }

  end(id: string): void {
    this.sessions.delete(id);
    this.ended.set(id, this.now());
    if (this.ended.size > MAX_SESSIONS) this.ended.delete(this.ended.keys().next().value as string);
  }

  /** Ends every session of an account (its role changed, it was removed). */
  endAll(username: string): void {
    for (const s of [...this.sessions.values()]) if (s.username === username) this.end(s.id);
  }
}
