import { randomBytes } from 'node:crypto';
import type { AdminContext } from '../admin/index.ts';
import { hashPin, verifyPin, WorkQueueFull } from '../crypto/index.ts';
import type { DirectoryPasswords } from '../directory/index.ts';
import { type AttemptPolicy, canonicalUsername, type Settings } from '../model/index.ts';
import { findTotpStep, otpauthUri, timeStep } from '../otp/index.ts';
import type { ConsoleAccount, FailurePolicy } from '../store/index.ts';

/** Why a sign-in step was refused. The page says less than this; the audit trail says this. */
export type SignInRefusal =
  | 'WRONG_CREDENTIALS'
  | 'LOCKED'
  | 'THROTTLED'
  | 'DISABLED'
  | 'UNAVAILABLE'
  /** The password hashing queue is full (a flood): nothing was counted, try again. */
  | 'BUSY';

export type SignInStep = { ok: true; account: ConsoleAccount } | { ok: false; reason: SignInRefusal };

export interface ConsoleSignInDeps {
  /** The admin operations' context for `actor` (audit events, store, key ring, settings). */
  adminContext: (actor: string, sourceIp?: string) => AdminContext;
  directory?: DirectoryPasswords;
  now?: () => number;
}

/** The TOTP period and window the console's own codes use. */
const PERIOD = 30 as const;
const WINDOW = 1;

/**
 * Console accounts share the users' attempt counters and locks in the store, under a name no
 * canonical username can have (`%` is refused in usernames), so the two never collide.
 */
export function attemptKey(username: string): string {
  return `%console%${username}`;
}

function sealAad(username: string): string {
  return `console:${username}`;
}

function attemptPolicy(settings: Settings): AttemptPolicy & FailurePolicy {
  return {
    lockout: settings.lockout,
    windowMs: settings.throttle.windowSeconds * 1000,
    failuresPerWindow: settings.throttle.failuresPerWindow,
  };
}

/** A hash to verify against when the account does not exist, so that takes as long as a wrong password. */
let decoyHash: Promise<string> | null = null;

/**
 * The console's sign-in: password (or directory bind), then a TOTP code. Every step is reserved as
 * an attempt before it is checked (src/model/state.ts), so guesses are throttled and lock the
 * account like a user's; every outcome is audited.
 */
export class ConsoleSignIn {
  private readonly now: () => number;

  constructor(private readonly deps: ConsoleSignInDeps) {
    this.now = deps.now ?? Date.now;
  }

  async password(name: string, password: string, sourceIp: string): Promise<SignInStep> {
    const username = canonicalUsername(name) ?? '';
    const ctx = this.deps.adminContext(`console:${username || 'unknown'}`, sourceIp);
    const account = username ? await ctx.store.getConsoleAccount(username) : null;
    if (!account) {
      decoyHash ??= hashPin(randomBytes(12).toString('hex'));
      try {
        await verifyPin(password, await decoyHash);
      } catch (err) {
        if (err instanceof WorkQueueFull) return this.refuse(ctx, 'password', 'BUSY');
        throw err;
      }
      return this.refuse(ctx, 'password', 'WRONG_CREDENTIALS');
    }
    const key = attemptKey(username);
    const reservation = await ctx.store.reserveAttempt(key, this.now(), attemptPolicy(await ctx.settings()));
    if (!reservation.granted)
      return this.refuse(ctx, 'password', reservation.refusal === 'locked' ? 'LOCKED' : 'THROTTLED');
    let verdict: 'ok' | 'wrong' | 'unavailable';
    try {
      if (account.passwordHash) verdict = (await verifyPin(password, account.passwordHash)) ? 'ok' : 'wrong';
      else verdict = await this.directoryVerdict(ctx, account, password);
    } catch (err) {
      if (!(err instanceof WorkQueueFull)) throw err;
      // nothing was checked: the attempt is given back, as a validation's would be
      await ctx.store.refundAttempt(key, reservation.ticket);
      return this.refuse(ctx, 'password', 'BUSY');
    }
    if (verdict !== 'ok') {
      await ctx.store.commitFailure(attemptKey(username), this.now(), attemptPolicy(await ctx.settings()));
      return this.refuse(ctx, 'password', verdict === 'wrong' ? 'WRONG_CREDENTIALS' : 'UNAVAILABLE');
    }
    if (!account.enabled) return this.refuse(ctx, 'password', 'DISABLED');
    // The attempt stays counted until the code is right: a password alone never clears the lock.
    ctx.audit('console.signin', { result: 'password-ok', account: username });
    return { ok: true, account };
  }

  /** The second step for an enrolled account: its current TOTP code, once only. */
  async code(username: string, code: string, sourceIp: string): Promise<SignInStep> {
    const ctx = this.deps.adminContext(`console:${username}`, sourceIp);
    const current = await ctx.store.getConsoleAccount(username);
    if (!current?.totpSealed) return this.refuse(ctx, 'code', 'WRONG_CREDENTIALS');
    const reserved = await this.reserve(ctx, current);
    if (reserved) return this.refuse(ctx, 'code', reserved);
    const secret = ctx.keyring.open(current.totpSealed, sealAad(current.username));
    if (secret && (await this.accept(ctx, current.username, secret, code))) {
      if (!current.enabled) return this.refuse(ctx, 'code', 'DISABLED');
      ctx.audit('console.signin', { result: 'ok', account: current.username, role: current.role });
      return { ok: true, account: current };
    }
    await ctx.store.commitFailure(
      attemptKey(current.username),
      this.now(),
      attemptPolicy(await ctx.settings()),
    );
    return this.refuse(ctx, 'code', 'WRONG_CREDENTIALS');
  }

  /** A fresh seed for an account that has none yet; stored only once a code from it is right. */
  newSecret(): Uint8Array {
    return randomBytes(20);
  }

  async enrolmentUri(username: string, secret: Uint8Array): Promise<string> {
    const settings = await this.deps.adminContext(username).settings();
    return otpauthUri({
      type: 'totp',
      issuer: `${settings.issuer} console`,
      account: username,
      secret,
      algorithm: 'SHA1',
      digits: 6,
      period: PERIOD,
      counter: 0,
    });
  }

  /** First sign-in: a right code from the new seed stores it (sealed) and signs the account in. */
  async confirmEnrolment(
    username: string,
    secret: Uint8Array,
    code: string,
    sourceIp: string,
  ): Promise<SignInStep> {
    const ctx = this.deps.adminContext(`console:${username}`, sourceIp);
    const current = await ctx.store.getConsoleAccount(username);
    // Someone else enrolled it meanwhile (or it was removed): this page's seed is not the account's.
    if (!current || current.totpSealed) return this.refuse(ctx, 'enrol', 'WRONG_CREDENTIALS');
    const reserved = await this.reserve(ctx, current);
    if (reserved) return this.refuse(ctx, 'enrol', reserved);
    if (!(await this.accept(ctx, current.username, secret, code))) {
      await ctx.store.commitFailure(
        attemptKey(current.username),
        this.now(),
        attemptPolicy(await ctx.settings()),
      );
      return this.refuse(ctx, 'enrol', 'WRONG_CREDENTIALS');
    }
    const enrolled: ConsoleAccount = {
      ...current,
      totpSealed: ctx.keyring.seal(secret, sealAad(current.username)),
      updatedAt: this.now(),
    };
    await ctx.store.putConsoleAccount(enrolled);
    ctx.audit('console.totp-enrol', { account: current.username });
    ctx.audit('console.signin', { result: 'ok', account: current.username, role: current.role });
    return { ok: true, account: enrolled };
  }

  /** Clears the account's failures and lock (a superadmin's action). */
  async unlock(ctx: AdminContext, username: string): Promise<void> {
    await ctx.store.unlockUser(attemptKey(username));
    ctx.audit('console-account.unlock', { account: username });
  }

  private async accept(
    ctx: AdminContext,
    username: string,
    secret: Uint8Array,
    code: string,
  ): Promise<boolean> {
    const now = this.now();
    const current = timeStep(now, PERIOD);
    const params = { secret, algorithm: 'SHA1' as const, digits: 6 as const, period: PERIOD };
    const step = findTotpStep(params, code.trim(), current - WINDOW, current + WINDOW, current);
    if (step === null) return false;
    // Atomically: the step moves the console seed's state forward (a code is good once) and the
    // counted attempts are cleared; a lock that started meanwhile refuses it.
    return ctx.store.commitAccept(
      attemptKey(username),
      attemptKey(username),
      { kind: 'totp', step, drift: 0 },
      now,
    );
  }

  private async reserve(ctx: AdminContext, account: ConsoleAccount): Promise<SignInRefusal | null> {
    const r = await ctx.store.reserveAttempt(
      attemptKey(account.username),
      this.now(),
      attemptPolicy(await ctx.settings()),
    );
    if (r.granted) return null;
    return r.refusal === 'locked' ? 'LOCKED' : 'THROTTLED';
  }

  private async directoryVerdict(
    ctx: AdminContext,
    account: ConsoleAccount,
    password: string,
  ): Promise<'ok' | 'wrong' | 'unavailable'> {
    if (!this.deps.directory || !account.directorySource) return 'wrong';
    const user = await ctx.store.getUser(account.username);
    if (!user?.directory || user.directory.source !== account.directorySource) return 'wrong';
    return this.deps.directory.verify(user, password);
  }

  private refuse(ctx: AdminContext, step: string, reason: SignInRefusal): SignInStep {
    ctx.audit('console.signin', { result: 'refused', reason, step });
    return { ok: false, reason };
  }
}
