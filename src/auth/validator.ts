import { randomBytes } from 'node:crypto';
import { authEvent, keepAuthEvent } from '../audit/auth-event.ts';
import { type KeyRing, WorkQueueFull } from '../crypto/index.ts';
import {
  type AttemptPolicy,
  type AttemptTicket,
  type AuditEvent,
  type Challenge,
  type Client,
  canonicalUsername,
  type FirstFactorProof,
  type ReasonCode,
  type Settings,
  type Token,
  type TokenStateOf,
  type User,
  type UserAuthState,
} from '../model/index.ts';
import type { AttemptVerdict, AuthView, Store } from '../store/index.ts';
import { type CodeMatch, failureReason, matchCode } from './code-check.ts';
import {
  buildMenu,
  type ChallengeMethod,
  type MenuEntry,
  type MethodRegistry,
  menuPick,
  menuText,
  methodFor,
} from './methods/index.ts';
import { codeMethod } from './methods/otp-code.ts';
import { codeSplits, splitPinAndOtp } from './pin-split.ts';
import { firstFactorProved, proofSatisfies, requiredProof, usableTokens } from './policy.ts';
import { type OneTimeCodes, redeemOneTimeCode } from './validator-one-time.ts';
import { codeLength } from './yubikey-check.ts';

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
  /** The type of the token that matched, for the authentication log. */
  method?: string;
  /** A challenge that offers a choice: the menu, numbered as the user answers it. */
  methods?: { index: number; type: string; label: string }[];
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
  /** Operator-facing faults (a seed this node cannot open). Never given a secret. */
  log?: { error(obj: object, msg: string): void };
  /** This node's id, in every authentication log entry. */
  node?: string;
  /** Share of accepts and challenges logged when the client sets none (0..1; default 1). */
  successSampleRate?: number;
  /** Checks directory passwords for `firstFactor: "ldap"` clients (src/directory/password.ts). */
  directory?: { verify(user: User, password: string): Promise<'ok' | 'wrong' | 'unavailable'> };
  /** Recovery and temporary codes (src/portal), tried where a code of their shape comes in. */
  oneTimeCodes?: OneTimeCodes;
  /** How each token type starts and answers a challenge (default: the built-in methods). */
  methods?: MethodRegistry;
}

const MESSAGES: Partial<Record<ReasonCode, string>> = {
  OTP_INVALID: 'The code is not valid.',
  OTP_REUSED: 'This code was used already; wait for the next one.',
  PIN_INVALID: 'The PIN or code is not valid.',
  PIN_REQUIRED: 'The PIN must be entered first; start again.',
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
  SEED_UNREADABLE: 'The code cannot be checked on this server; try again later.',
  SERVER_BUSY: 'The server is busy; try again in a moment.',
  PASSWORD_INVALID: 'The password or code is not valid.',
  DIRECTORY_UNAVAILABLE: 'The directory cannot be reached; try again later.',
  YUBIKEY_BAD_LENGTH: 'The YubiKey code has the wrong length; touch the key once.',
  YUBIKEY_BAD_MODHEX: 'The YubiKey code has characters a YubiKey does not type; check the keyboard layout.',
  YUBIKEY_UNKNOWN: 'This YubiKey is not enrolled for the account.',
  YUBIKEY_CRC: 'The YubiKey code is damaged; touch the key again.',
  METHOD_UNAVAILABLE: 'The chosen sign-in method is not available any more; start again.',
  PUSH_DENIED: 'The sign-in was denied on the phone.',
  PUSH_EXPIRED: 'The sign-in was not approved in time; start again.',
  PUSH_LIMIT: 'Too many sign-ins wait for approval; answer them on your phone or wait a minute.',
  DELIVERY_FAILED: 'The code could not be sent; try again later or use another method.',
  DELIVERY_RATE_LIMITED: 'Too many codes were sent lately; wait a while before asking for another.',
  DESTINATION_MISSING: 'No address or phone number is known for this method; ask your helpdesk.',
  METHOD_CHOICE_INVALID: 'That number is not on the menu; start again.',
  METHOD_NOT_ALLOWED: 'None of your sign-in methods is allowed here.',
  CHALLENGE_DISABLED: 'Enter your PIN and code together.',
};

/** One code login's inputs, and the match its verdict came from (read back after the store step). */
interface Judged {
  keyring: KeyRing;
  tokens: Token[];
  code: string;
  settings: Settings;
  now: number;
  match: CodeMatch;
}

const NO_MATCH: CodeMatch = { outcome: 'none', unreadable: [] };

/** The token states a view read, as the lookup the code check takes. */
function statesIn(view: AuthView): TokenStateOf {
  return (serial) => view.tokenStates.get(serial);
}

/** The verdict on a code from the token states given; a plain function, not a closure per login. */
function judge(j: Judged, stateOf: TokenStateOf): AttemptVerdict {
  const match = matchCode(j.keyring, j.tokens, stateOf, j.code, j.settings, j.now);
  j.match = match;
  if (match.outcome === 'match')
    return { kind: 'accept', serial: match.token.serial, advance: match.advance };
  if (match.outcome === 'none' && match.unreadable.length > 0 && match.unreadable.length === j.tokens.length)
    return { kind: 'refund' };
  return { kind: 'fail' };
}

/**
 * The validation pipeline: resolve user → policy → reserve an attempt → first factor (PIN) →
 * tokens → code or challenge → commit → audit. Every PIN or code evaluation happens inside a
 * reserved attempt, so parallel guesses never outrun the lockout and throttle. It never sees HTTP;
 * every decision is an outcome with a stable reason code.
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
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.deps.observe?.(outcome, seconds);
    if (keepAuthEvent(outcome.result, req.client, this.deps.successSampleRate ?? 1))
      // the decision's fields by name, not a spread of request and outcome: this runs per login
      this.deps.audit.record(
        authEvent({
          time: this.now(),
          node: this.deps.node,
          client: req.client,
          user: req.user,
          result: outcome.result,
          reason: outcome.reason,
          serial: outcome.serial,
          method: outcome.method,
          sourceIp: req.sourceIp,
          nasIdentifier: req.nasIdentifier,
          nasIpAddress: req.nasIpAddress,
          latencyMs: seconds * 1000,
        }),
      );
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
    const tokens = this.eligibleTokens(view, req.client, settings);
    const pass = req.pass ?? '';
    const proof = requiredProof(req.client, view.user);
    if (tokens.length === 0 && !(proof === 'none' && this.oneTimeWithoutToken(view, settings, pass)))
      return this.noUsableToken(view, settings);
    const codeTokens = this.codeTokens(tokens);
    const challenges = req.client.challenge !== 'disabled';

    if (proof === 'upstream') {
      if (challenges) return this.challenge(req, view, tokens, settings, now, 'upstream');
      // The first factor was proved before us and no second round may open: the pass is the code.
      if (pass === '') return reject('CHALLENGE_DISABLED');
      return this.codeAttempt(view, codeTokens, pass, settings, now);
    }
    if (proof === 'ldap') {
      return this.attempt(view, settings, now, (ticket) =>
        this.directoryFirst(req, view, tokens, codeTokens, pass, settings, now, ticket),
      );
    }
    if (proof === 'none') {
      if (pass === '')
        return challenges
          ? this.challenge(req, view, tokens, settings, now, 'none')
          : reject('CHALLENGE_DISABLED');
      return this.codeAttempt(view, codeTokens, pass, settings, now);
    }
    const pinHash = view.user.pinHash ?? '';
    return this.attempt(view, settings, now, async (ticket) => {
      // No pass is no PIN: a failure like a wrong PIN, never a challenge.
      if (pass === '') return this.fail(view, 'PIN_INVALID', settings, now);
      const split = await splitPinAndOtp(
        pass,
        pinHash,
        codeTokens.map(codeLength),
        this.deps.oneTimeCodes?.matches,
      );
      if (split.kind === 'wrong-pin') return this.fail(view, 'PIN_INVALID', settings, now);
      // PIN ‖ recovery or temporary code: checkCode redeems a code of that shape
      if (split.kind === 'pin+code') return this.checkCode(view, [], split.code, settings, now, ticket);
      if (split.kind === 'pin-only') {
        // The PIN is proved; the attempt is given back so two-step logins do not lock their user.
        await this.deps.store.refundAttempt(view.user.username, ticket);
        if (!challenges) return reject('CHALLENGE_DISABLED');
        return this.challenge(req, view, tokens, settings, now, 'pin');
      }
      return this.checkCode(
        view,
        codeTokens.filter((t) => codeLength(t) === split.digits),
        split.otp,
        settings,
        now,
        ticket,
      );
    });
  }

  /**
   * `firstFactor: "ldap"`: the directory password followed by the code, or the password alone for a
   * challenge. A pass ending in digits is first tried as password + code, then whole. The code is
   * checked only after the directory accepted the password, so a wrong password spends no code.
   */
  private async directoryFirst(
    req: ValidateRequest,
    view: AuthView,
    tokens: Token[],
    codeTokens: Token[],
    pass: string,
    settings: Settings,
    now: number,
    ticket: AttemptTicket,
  ): Promise<ValidateOutcome> {
    const tries: { password: string; digits?: number }[] = codeSplits(
      pass,
      codeTokens.map(codeLength),
    ).flatMap((s) => (s.secret === null ? [] : [{ password: s.secret, digits: s.digits }]));
    tries.push({ password: pass });
    for (const t of tries) {
      const verdict = this.deps.directory
        ? await this.deps.directory.verify(view.user, t.password)
        : 'unavailable';
      if (verdict === 'wrong') continue;
      if (verdict === 'unavailable' || t.digits === undefined) {
        // Not the user's fault, or a proved password: the attempt is given back either way.
        await this.deps.store.refundAttempt(view.user.username, ticket);
        if (verdict !== 'ok') return reject('DIRECTORY_UNAVAILABLE');
        if (req.client.challenge === 'disabled') return reject('CHALLENGE_DISABLED');
        return this.challenge(req, view, tokens, settings, now, 'ldap');
      }
      const digits = t.digits;
      return this.checkCode(
        view,
        codeTokens.filter((k) => codeLength(k) === digits),
        pass.slice(-digits),
        settings,
        now,
        ticket,
      );
    }
    return this.fail(view, 'PASSWORD_INVALID', settings, now);
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
    if (req.client.challenge === 'disabled') return reject('CHALLENGE_DISABLED');
    const view = await this.deps.store.loadAuthView(req.user);
    if (!view) return reject('USER_UNKNOWN');
    const gate = this.gate(view, settings, now);
    if (gate) return gate;
    const tokens = this.eligibleTokens(view, req.client, settings);
    if (tokens.length === 0) return this.noUsableToken(view, settings);
    // What the user and client need now, not when the challenge was made: a PIN set, or a client
    // switched from upstream to pin, between the rounds must not let the code alone in.
    if (!proofSatisfies(challenge.firstFactor, requiredProof(req.client, view.user))) {
      return reject('PIN_REQUIRED');
    }
    if (challenge.method)
      return this.answerBound(req, { ...challenge, method: challenge.method }, view, tokens, settings, now);
    const pick = challenge.menu ? menuPick(req.pass ?? '') : null;
    if (challenge.menu && pick !== null)
      return this.answerMenu(req, challenge, challenge.menu[pick - 1], view, tokens, settings, now);
    return this.codeAttempt(view, this.codeTokens(tokens), req.pass ?? '', settings, now);
  }

  /**
   * A number picked from a menu: the chosen token's method starts in a new challenge, bound to it,
   * with the same first-factor proof. The pick is evaluated inside a reserved attempt (a locked user
   * starts nothing, so a lock also stops codes being sent); a number on the menu gives the attempt
   * back, one that is not is a counted failure.
   */
  private answerMenu(
    req: ValidateRequest,
    menu: Challenge,
    choice: { serial: string; type: string } | undefined,
    view: AuthView,
    tokens: Token[],
    settings: Settings,
    now: number,
  ): Promise<ValidateOutcome> {
    return this.attempt(view, settings, now, async (ticket) => {
      if (!choice) return this.fail(view, 'METHOD_CHOICE_INVALID', settings, now);
      await this.deps.store.refundAttempt(view.user.username, ticket);
      const token = tokens.find((t) => t.serial === choice.serial && t.type === choice.type);
      if (!token) return reject('METHOD_UNAVAILABLE');
      return this.startMethod(req, view, token, settings, now, menu.firstFactor);
    });
  }

  /**
   * A challenge started for one token: only that token answers (a recovery or temporary code
   * still does, as everywhere), through its method's own check or as a code of that token.
   */
  private async answerBound(
    req: ValidateRequest,
    challenge: Challenge & { method: NonNullable<Challenge['method']> },
    view: AuthView,
    tokens: Token[],
    settings: Settings,
    now: number,
  ): Promise<ValidateOutcome> {
    const bound = challenge.method;
    const token = tokens.find((t) => t.serial === bound.serial && t.type === bound.type);
    if (!token) return reject('METHOD_UNAVAILABLE');
    const method = this.method(token);
    const pass = req.pass ?? '';
    if (!method.answer || this.deps.oneTimeCodes?.matches(pass))
      return this.codeAttempt(view, [token], pass, settings, now);
    const answer = method.answer.bind(method);
    return this.attempt(view, settings, now, async (ticket) => {
      const ctx = this.methodContext(req, view, token, settings, now, challenge.transactionId);
      const verdict = await answer({ ...ctx, pass, state: bound.state });
      switch (verdict.kind) {
        case 'accept':
          return this.acceptAnswered(view, token, settings, now);
        case 'code':
          return this.checkCode(view, [token], pass, settings, now, ticket);
        case 'pending':
          await this.deps.store.refundAttempt(view.user.username, ticket);
          await this.deps.store.putChallenge(
            verdict.state ? { ...challenge, method: { ...bound, state: verdict.state } } : challenge,
            challengeRetainMs(challenge),
          );
          return {
            result: 'challenge',
            reason: verdict.reason ?? 'CHALLENGE_SENT',
            message: verdict.message,
            transactionId: challenge.transactionId,
            challengeTtlSeconds: Math.max(1, Math.ceil((challenge.expiresAt - now) / 1000)),
            serial: token.serial,
            method: token.type,
          };
        case 'refused':
          return this.fail(view, verdict.reason, settings, now, token.serial);
        case 'wrong':
          return this.fail(view, 'OTP_INVALID', settings, now, token.serial);
      }
    });
  }

  /**
   * A method proved its answer (the challenge it was bound to is taken already, so it cannot be
   * answered twice). The accept is committed like a code's: atomically, refused when the user
   * was locked meanwhile; the token's counter moves on so parallel commits cannot both win.
   */
  private async acceptAnswered(
    view: AuthView,
    token: Token,
    settings: Settings,
    now: number,
  ): Promise<ValidateOutcome> {
    const store = this.deps.store;
    const current = await store.getTokenState(token.serial);
    const fresh = await store.commitAccept(
      view.user.username,
      token.serial,
      { kind: 'hotp', counter: current.counter },
      now,
    );
    if (!fresh) {
      const state = await this.settle(view, settings, now);
      return reject(state.lockedUntil > now ? 'USER_LOCKED' : 'OTP_REUSED', { serial: token.serial });
    }
    return accept('OK', token);
  }

  private method(token: Token): ChallengeMethod {
    return (this.deps.methods ?? BUILTIN).methodFor(token.type) ?? codeMethod(token.type);
  }

  /** The user's usable tokens of the methods this client allows. */
  private eligibleTokens(view: AuthView, client: Client, settings: Settings): Token[] {
    const usable = usableTokens(view.tokens, view.user, view.group, settings);
    const allowed = client.allowedMethods;
    return allowed ? usable.filter((t) => allowed.includes(t.type)) : usable;
  }

  /**
   * The tokens a typed code is tried against: those the user reads a code off (TOTP, HOTP,
   * YubiKey, and a push phone, which makes TOTP codes for logins without network — a device moved
   * online keeps working in one-shot PIN+code). A sent code answers only its own challenge, so an
   * email or SMS token is never matched as a device code.
   */
  private codeTokens(tokens: Token[]): Token[] {
    return tokens.filter((t) => t.type === 'push' || !this.method(t).answer);
  }

  private methodContext(
    req: ValidateRequest,
    view: AuthView,
    token: Token,
    settings: Settings,
    now: number,
    transactionId: string,
  ) {
    return {
      user: view.user,
      token,
      client: req.client,
      settings,
      now,
      transactionId,
      ...(req.sourceIp !== undefined ? { sourceIp: req.sourceIp } : {}),
      ...(req.nasIdentifier !== undefined ? { nasIdentifier: req.nasIdentifier } : {}),
    };
  }

  /** Cheap refusal from the state already read; the reservation then decides atomically. */
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

  /**
   * Runs `evaluate` inside a reserved attempt: refused unevaluated when the user is locked or
   * throttled. An overloaded PIN check gives the attempt back and answers SERVER_BUSY.
   */
  private async attempt(
    view: AuthView,
    settings: Settings,
    now: number,
    evaluate: (ticket: AttemptTicket) => Promise<ValidateOutcome>,
  ): Promise<ValidateOutcome> {
    const username = view.user.username;
    const reservation = await this.deps.store.reserveAttempt(username, now, attemptPolicy(settings));
    if (!reservation.granted) {
      return reject(reservation.refusal === 'throttled' ? 'USER_THROTTLED' : 'USER_LOCKED');
    }
    try {
      return await evaluate(reservation.ticket);
    } catch (err) {
      if (!(err instanceof WorkQueueFull)) throw err;
      await this.deps.store.refundAttempt(username, reservation.ticket);
      return reject('SERVER_BUSY');
    }
  }

  /**
   * A code alone (no PIN, no directory password) inside a reserved attempt. Where the store can
   * (the embedded store), reservation, check and commit are one atomic step with one durable
   * commit: the reservation is still decided before the code is looked at, and nothing can come
   * between them. Otherwise reserve, check, then commit, as for a PIN.
   */
  private async codeAttempt(
    view: AuthView,
    tokens: Token[],
    code: string,
    settings: Settings,
    now: number,
  ): Promise<ValidateOutcome> {
    const store = this.deps.store;
    // A recovery or temporary code is spent by its own store step (checkCode), never matched as an OTP.
    if ((!store.decideAttempt && !store.settleAttempt) || this.deps.oneTimeCodes?.matches(code)) {
      return this.attempt(view, settings, now, (ticket) =>
        this.checkCode(view, tokens, code, settings, now, ticket),
      );
    }
    const judged: Judged = { keyring: this.deps.keyring, tokens, code, settings, now, match: NO_MATCH };
    const policy = attemptPolicy(settings);
    // The embedded store evaluates inside its transaction; Redis takes the verdict reached from the
    // states just read and decides the reservation first in the same script: refused, the verdict
    // changes nothing and the answer does not depend on it.
    const decision = store.decideAttempt
      ? await store.decideAttempt(view.user.username, now, policy, (tokenState) => judge(judged, tokenState))
      : await store.settleAttempt!(view.user.username, now, policy, judge(judged, statesIn(view)));
    const found = judged.match;
    switch (decision.kind) {
      case 'refused':
        return reject(decision.refusal === 'throttled' ? 'USER_THROTTLED' : 'USER_LOCKED');
      case 'refunded':
        this.logSeedUnreadable(view, found.outcome === 'none' ? found.unreadable : tokens);
        return reject('SEED_UNREADABLE');
      case 'accepted': {
        const token = (found as Extract<CodeMatch, { outcome: 'match' }>).token;
        return accept('OK', token);
      }
      case 'stale': {
        // Used already, or locked by parallel failures since the view was read: never an accept.
        const serial = found.outcome === 'none' ? undefined : found.token.serial;
        const reason = decision.state.lockedUntil > now ? 'USER_LOCKED' : 'OTP_REUSED';
        return reject(reason, { serial });
      }
      case 'failed':
        return this.failed(failureReason(found), decision.state, now);
    }
  }

  /**
   * No active token at all (its device marked lost, say) and the pass has the shape of a recovery or
   * temporary code: that is the case these codes exist for, so the code is still checked (inside a
   * reserved attempt, like any code). Disabled methods or a token awaiting resync still refuse.
   */
  private oneTimeWithoutToken(view: AuthView, settings: Settings, pass: string): boolean {
    return (
      this.noUsableToken(view, settings).reason === 'NO_TOKEN' && !!this.deps.oneTimeCodes?.matches(pass)
    );
  }

  private noUsableToken(view: AuthView, settings: Settings): ValidateOutcome {
    if (view.tokens.length === 0 && settings.newUserMode === 'after-first-token')
      return accept('NOT_ENROLLED_YET');
    if (usableTokens(view.tokens, view.user, view.group, settings).length > 0)
      return reject('METHOD_NOT_ALLOWED');
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
    ticket: AttemptTicket,
  ): Promise<ValidateOutcome> {
    const oneTime = this.deps.oneTimeCodes;
    if (oneTime?.matches(code))
      return redeemOneTimeCode(oneTime, view.user.username, code, now, () =>
        this.fail(view, 'OTP_INVALID', settings, now),
      );
    const match = matchCode(this.deps.keyring, tokens, statesIn(view), code, settings, now);
    if (match.outcome === 'match') {
      const fresh = await this.deps.store.commitAccept(
        view.user.username,
        match.token.serial,
        match.advance,
        now,
      );
      if (fresh) return accept('OK', match.token);
      // Used already, or locked by parallel failures since the reservation: never an accept.
      const state = await this.settle(view, settings, now);
      return reject(state.lockedUntil > now ? 'USER_LOCKED' : 'OTP_REUSED', { serial: match.token.serial });
    }
    if (
      match.outcome === 'none' &&
      match.unreadable.length > 0 &&
      match.unreadable.length === tokens.length
    ) {
      return this.seedUnreadable(view, match.unreadable, ticket);
    }
    return this.fail(view, failureReason(match), settings, now);
  }

  /**
   * No seed of the user opens here (this node has another seed key, or a value was moved): a right
   * code would look wrong, so the attempt is given back rather than counted towards a lock. Such a
   * token can accept nothing on this node, so nothing can be guessed through it.
   */
  private async seedUnreadable(
    view: AuthView,
    tokens: Token[],
    ticket: AttemptTicket,
  ): Promise<ValidateOutcome> {
    await this.deps.store.refundAttempt(view.user.username, ticket);
    this.logSeedUnreadable(view, tokens);
    return reject('SEED_UNREADABLE');
  }

  private logSeedUnreadable(view: AuthView, tokens: Token[]): void {
    this.deps.log?.error(
      {
        username: view.user.username,
        serials: tokens.map((t) => t.serial),
        keyIds: [...new Set(tokens.map((t) => this.deps.keyring.keyIdOf(t.secretSealed) ?? 'unknown'))],
        currentKeyId: this.deps.keyring.currentKeyId,
      },
      "token seeds cannot be opened with this node's seed key ring; is the same key on every node?",
    );
  }

  private async fail(
    view: AuthView,
    reason: ReasonCode,
    settings: Settings,
    now: number,
    serial?: string,
  ): Promise<ValidateOutcome> {
    return this.failed(reason, await this.settle(view, settings, now), now, serial);
  }

  /** A counted failure's answer; it says so when this failure locked the user. */
  private failed(reason: ReasonCode, state: UserAuthState, now: number, serial?: string): ValidateOutcome {
    const locked = state.lockedUntil > now;
    return reject(reason, {
      serial,
      message: locked ? `${MESSAGES[reason] ?? ''} ${MESSAGES.USER_LOCKED}`.trim() : undefined,
    });
  }

  /** The reserved attempt failed: the store decides the lock. */
  private settle(view: AuthView, settings: Settings, now: number): Promise<UserAuthState> {
    return this.deps.store.commitFailure(view.user.username, now, {
      lockout: settings.lockout,
      windowMs: settings.throttle.windowSeconds * 1000,
    });
  }

  /**
   * Opens the second round. With one eligible token, or the user's default where the client asks
   * for it, that token's method starts (a code is sent, a push created, or nothing for a code the
   * user reads off a device) and the challenge is bound to it. With several, the challenge is a
   * menu: a number starts one of them, a code of any of them answers it at once.
   */
  private async challenge(
    req: ValidateRequest,
    view: AuthView,
    tokens: Token[],
    settings: Settings,
    now: number,
    firstFactor: FirstFactorProof,
  ): Promise<ValidateOutcome> {
    const chosen =
      tokens.length === 1
        ? tokens[0]
        : req.client.methodChoice === 'default'
          ? tokens.find((t) => t.isDefault)
          : undefined;
    if (chosen) return this.startMethod(req, view, chosen, settings, now, firstFactor);
    const menu = buildMenu(tokens, view.user, (t) => this.method(t));
    const challenge = this.newChallenge(req, settings, now, firstFactor);
    challenge.menu = menu.map(({ serial, type }) => ({ serial, type }));
    return this.openChallenge(challenge, settings, menuText(menu), {
      methods: menu.map(({ index, type, label }: MenuEntry) => ({ index, type, label })),
    });
  }

  /** A new challenge bound to one token, once its method has started. */
  private async startMethod(
    req: ValidateRequest,
    view: AuthView,
    token: Token,
    settings: Settings,
    now: number,
    firstFactor: FirstFactorProof,
  ): Promise<ValidateOutcome> {
    const method = this.method(token);
    if (method.needsFirstFactor && !firstFactorProved(firstFactor, req.client))
      return reject('PIN_REQUIRED', { serial: token.serial, method: token.type });
    const base = this.newChallenge(req, settings, now, firstFactor);
    const started = await method.start(
      this.methodContext(req, view, token, settings, now, base.transactionId),
    );
    if (started.failure) return reject(started.failure, { serial: token.serial, method: token.type });
    base.method = { serial: token.serial, type: token.type, state: started.state ?? {} };
    return this.openChallenge(base, settings, started.message, { serial: token.serial, method: token.type });
  }

  /** A fresh challenge record; its method or menu is set on it, not spread into a copy (see accept). */
  private newChallenge(
    req: ValidateRequest,
    settings: Settings,
    now: number,
    firstFactor: FirstFactorProof,
  ): Challenge {
    return {
      transactionId: randomBytes(18).toString('base64url'),
      username: req.user,
      clientId: req.client.id,
      firstFactor,
      createdAt: now,
      expiresAt: now + settings.challengeTtlSeconds * 1000,
    };
  }

  private async openChallenge(
    challenge: Challenge,
    settings: Settings,
    message: string,
    named: Pick<ValidateOutcome, 'serial' | 'method' | 'methods'>,
  ): Promise<ValidateOutcome> {
    await this.deps.store.putChallenge(challenge, challengeRetainMs(challenge));
    return {
      result: 'challenge',
      reason: 'CHALLENGE_SENT',
      message,
      transactionId: challenge.transactionId,
      challengeTtlSeconds: settings.challengeTtlSeconds,
      ...named,
    };
  }
}

const BUILTIN: MethodRegistry = { methodFor };

/** A challenge record outlives its expiry a little, so a late answer reads as expired, not unknown. */
function challengeRetainMs(challenge: Challenge): number {
  return challenge.expiresAt - challenge.createdAt + 300_000;
}

function attemptPolicy(settings: Settings): AttemptPolicy {
  return {
    lockout: settings.lockout,
    windowMs: settings.throttle.windowSeconds * 1000,
    failuresPerWindow: settings.throttle.failuresPerWindow,
  };
}

/*
 * Answers are built here, key by key, never as `{ ...reject(reason), serial }`: in Node 20's V8 a
 * spread followed by a key its source lacks gives every object a hidden class (map) of its own, in
 * the old generation (from about the tenth call on, once the inline cache has settled), and what
 * the object points at is promoted with it. The validator alone answering 4,300 codes/s (accepts
 * not logged, --trace-gc-nvp) promoted about 360 KB per scavenge with such spreads in its accepts
 * and 56 KB without (validator-shapes.test.ts checks that accepts share one map).
 */

/** An accept; with the token that matched, its serial and type (for the authentication log). */
function accept(reason: ReasonCode, token?: Token): ValidateOutcome {
  const out: ValidateOutcome = { result: 'accept', reason };
  if (token) {
    out.serial = token.serial;
    out.method = token.type;
  }
  return out;
}

/** A reject with its message (the reason's, unless given), and the token it concerns if any. */
function reject(
  reason: ReasonCode,
  about?: { serial?: string; method?: string; message?: string },
): ValidateOutcome {
  const out: ValidateOutcome = {
    result: 'reject',
    reason,
    message: about?.message ?? MESSAGES[reason] ?? 'Access denied.',
  };
  if (about?.serial) out.serial = about.serial;
  if (about?.method) out.method = about.method;
  return out;
}
