import { randomBytes } from 'node:crypto';
import type { KeyRing } from '../crypto/index.ts';
import {
  type AuditEvent,
  type Client,
  canonicalUsername,
  type ReasonCode,
  type Settings,
  type Token,
} from '../model/index.ts';
import type { AuthView, Store } from '../store/index.ts';
import { matchCode } from './code-check.ts';
import { splitPinAndOtp } from './pin-split.ts';
import { usableTokens } from './policy.ts';

export interface ValidateRequest {
  user: string;
  pass?: string;
  transactionId?: string;
  client: Client;
  sourceIp?: string;
  nasIdentifier?: string;
  nasIpAddress?: string;
}

export interface ValidateOutcome {
  result: 'accept' | 'reject' | 'challenge';
  reason: ReasonCode;
  message?: string;
  transactionId?: string;
  challengeTtlSeconds?: number;
  serial?: string;
}

export interface AuditSink {
  record(event: AuditEvent): void;
}

export interface ValidatorDeps {
  store: Store;
  keyring: KeyRing;
  settings: () => Promise<Settings>;
  audit: AuditSink;
  now?: () => number;
  /** Called once per decision, for metrics. */
  observe?: (outcome: ValidateOutcome, seconds: number) => void;
}

const MESSAGES: Partial<Record<ReasonCode, string>> = {
  OTP_INVALID: 'The code is not valid.',
  OTP_REUSED: 'This code was used already; wait for the next one.',
  PIN_INVALID: 'The PIN or code is not valid.',
  USER_UNKNOWN: 'Unknown user.',
  USER_LOCKED: 'Too many failed attempts; the account is locked for a while.',
  USER_DISABLED: 'The account is disabled.',
  USER_THROTTLED: 'Too many attempts; try again in a minute.',
  NO_TOKEN: 'No usable second factor is enrolled for this account.',
  RESYNC_REQUIRED: 'The token must be resynchronised by an administrator.',
  CHALLENGE_EXPIRED: 'The login took too long; start again.',
  CHALLENGE_UNKNOWN: 'The login session is not known; start again.',
  CHALLENGE_USER_MISMATCH: 'The login session belongs to another user or client.',
  USER_INVALID: 'Unknown user.',
};

/**
 * The validation pipeline: resolve user → policy → tokens → PIN/OTP → challenge → lockout → audit.
 * It never sees HTTP; every decision is an outcome with a stable reason code.
 */
export class Validator {
  private readonly now: () => number;

  constructor(private readonly deps: ValidatorDeps) {
    this.now = deps.now ?? Date.now;
  }

  async validate(raw: ValidateRequest): Promise<ValidateOutcome> {
    const started = process.hrtime.bigint();
    // One name per user on every face: a name that can never be canonical is refused outright
    // (never an unknown user, so never a passthrough).
    const user = canonicalUsername(raw.user);
    const req = { ...raw, user: user ?? raw.user.slice(0, 256).replace(/[\ud800-\udfff]/gu, '\ufffd') };
    const outcome = user === null ? reject('USER_INVALID') : await this.decide(req);
    this.deps.observe?.(outcome, Number(process.hrtime.bigint() - started) / 1e9);
    this.deps.audit.record({
      time: this.now(),
      type: 'validate',
      actor: `client:${req.client.id}`,
      username: req.user,
      result: outcome.result,
      reason: outcome.reason,
      ...(outcome.serial ? { serial: outcome.serial } : {}),
      ...(req.sourceIp ? { sourceIp: req.sourceIp } : {}),
      ...(req.nasIdentifier ? { nasIdentifier: req.nasIdentifier } : {}),
      ...(req.nasIpAddress ? { nasIpAddress: req.nasIpAddress } : {}),
    });
    return outcome;
  }

  private async decide(req: ValidateRequest): Promise<ValidateOutcome> {
    const settings = await this.deps.settings();
    const now = this.now();
    if (req.transactionId !== undefined) return this.answerChallenge(req, settings, now);

    const view = await this.deps.store.loadAuthView(req.user);
    if (!view) {
      const policy = req.client.unknownUserPolicy ?? settings.unknownUserPolicy;
      return policy === 'passthrough' ? accept('UNKNOWN_USER_PASSTHROUGH') : reject('USER_UNKNOWN');
    }
    const gate = this.gate(view, settings, now);
    if (gate) return gate;
    if (!view.user.mfaRequired) return accept('MFA_NOT_REQUIRED');
    const tokens = usableTokens(view.tokens, view.user, view.group, settings);
    if (tokens.length === 0) return this.noUsableToken(view, settings);

    const pass = req.pass ?? '';
    if (req.client.firstFactor === 'upstream' || pass === '') return this.challenge(req, settings, now);
    if (view.user.pinHash) {
      const split = await splitPinAndOtp(
        pass,
        view.user.pinHash,
        tokens.map((t) => t.digits),
      );
      if (split.kind === 'pin-only') return this.challenge(req, settings, now);
      if (split.kind === 'wrong-pin') return this.fail(view, 'PIN_INVALID', settings, now);
      return this.checkCode(
        view,
        tokens.filter((t) => t.digits === split.digits),
        split.otp,
        settings,
        now,
      );
    }
    return this.checkCode(view, tokens, pass, settings, now);
  }

  private async answerChallenge(
    req: ValidateRequest,
    settings: Settings,
    now: number,
  ): Promise<ValidateOutcome> {
    const challenge = await this.deps.store.takeChallenge(req.transactionId ?? '');
    if (!challenge) return reject('CHALLENGE_UNKNOWN');
    if (challenge.expiresAt <= now) return reject('CHALLENGE_EXPIRED');
    if (challenge.username !== req.user || challenge.clientId !== req.client.id) {
      return reject('CHALLENGE_USER_MISMATCH');
    }
    const view = await this.deps.store.loadAuthView(req.user);
    if (!view) return reject('USER_UNKNOWN');
    const gate = this.gate(view, settings, now);
    if (gate) return gate;
    const tokens = usableTokens(view.tokens, view.user, view.group, settings);
    if (tokens.length === 0) return this.noUsableToken(view, settings);
    return this.checkCode(view, tokens, req.pass ?? '', settings, now);
  }

  private gate(view: AuthView, settings: Settings, now: number): ValidateOutcome | null {
    if (!view.user.enabled) return reject('USER_DISABLED');
    if (view.userState.lockedUntil > now) return reject('USER_LOCKED');
    const t = settings.throttle;
    const windowOpen = now - view.userState.windowStart < t.windowSeconds * 1000;
    if (t.failuresPerWindow > 0 && windowOpen && view.userState.windowFailures >= t.failuresPerWindow) {
      return reject('USER_THROTTLED');
    }
    return null;
  }

  private noUsableToken(view: AuthView, settings: Settings): ValidateOutcome {
    if (view.tokens.length === 0 && settings.newUserMode === 'after-first-token')
      return accept('NOT_ENROLLED_YET');
    if (view.tokens.some((t) => t.resyncRequired && t.status === 'active')) return reject('RESYNC_REQUIRED');
    if (view.tokens.some((t) => t.status === 'active')) return reject('METHOD_DISABLED');
    return reject('NO_TOKEN');
  }

  private async checkCode(
    view: AuthView,
    tokens: Token[],
    code: string,
    settings: Settings,
    now: number,
  ): Promise<ValidateOutcome> {
    const match = matchCode(this.deps.keyring, tokens, view.tokenStates, code, settings, now);
    if (match.outcome === 'match') {
      const fresh = await this.deps.store.commitAccept(
        view.user.username,
        match.token.serial,
        match.advance,
        now,
      );
      if (fresh) return { ...accept('OK'), serial: match.token.serial };
      return this.fail(view, 'OTP_REUSED', settings, now, match.token.serial);
    }
    return this.fail(view, match.outcome === 'reused' ? 'OTP_REUSED' : 'OTP_INVALID', settings, now);
  }

  private async fail(
    view: AuthView,
    reason: ReasonCode,
    settings: Settings,
    now: number,
    serial?: string,
  ): Promise<ValidateOutcome> {
    const state = await this.deps.store.commitFailure(view.user.username, now, {
      lockout: settings.lockout,
      windowMs: settings.throttle.windowSeconds * 1000,
    });
    const locked = state.lockedUntil > now;
    return {
      ...reject(reason),
      ...(locked ? { message: `${MESSAGES[reason] ?? ''} ${MESSAGES.USER_LOCKED}`.trim() } : {}),
      ...(serial ? { serial } : {}),
    };
  }

  private async challenge(req: ValidateRequest, settings: Settings, now: number): Promise<ValidateOutcome> {
    const transactionId = randomBytes(18).toString('base64url');
    const ttl = settings.challengeTtlSeconds;
    await this.deps.store.putChallenge(
      {
        transactionId,
        username: req.user,
        clientId: req.client.id,
        createdAt: now,
        expiresAt: now + ttl * 1000,
      },
      ttl * 1000 + 300_000,
    );
    return {
      result: 'challenge',
      reason: 'CHALLENGE_SENT',
      message: req.client.challengeText,
      transactionId,
      challengeTtlSeconds: ttl,
    };
  }
}

function accept(reason: ReasonCode): ValidateOutcome {
  return { result: 'accept', reason };
}

function reject(reason: ReasonCode): ValidateOutcome {
  return { result: 'reject', reason, message: MESSAGES[reason] ?? 'Access denied.' };
}
