import type { Client, Method, ReasonCode, Settings, Token, User } from '../../model/index.ts';

/** What a method sees when a challenge for one of its tokens starts or is answered. */
export interface MethodContext {
  user: User;
  token: Token;
  client: Client;
  settings: Settings;
  now: number;
  transactionId: string;
  sourceIp?: string;
  nasIdentifier?: string;
}

/** What a method keeps in the challenge between its start and the answer; opaque to the validator. */
export type MethodState = Record<string, string | number | boolean>;

export interface MethodStart {
  /** Text for the user: RADIUS Reply-Message, Keycloak page. Never a secret. */
  message: string;
  /** Kept in the challenge record (`Challenge.method = { serial, type, state }`), opaque to the validator. */
  state?: MethodState;
  /** Could not start (gateway down, rate limit): the login gets this reason, the attempt is given back. */
  failure?: ReasonCode;
}

export type MethodAnswer =
  /** Proved. The validator commits the accept once, atomically (the challenge is single-use). */
  | { kind: 'accept' }
  /**
   * The pass is a code the token's own device makes (a push phone's TOTP code with no network):
   * the validator checks it as any device code, inside the same reserved attempt.
   */
  | { kind: 'code' }
  /** A counted failure. */
  | { kind: 'wrong' }
  /**
   * Not answered yet (push), or another code sent (mail, SMS): the challenge goes on, nothing
   * counted. `state` replaces the method's state (a resent code); `reason` says why the challenge
   * goes on unchanged (a resend that could not be sent), instead of CHALLENGE_SENT.
   */
  | { kind: 'pending'; message: string; state?: MethodState; reason?: ReasonCode }
  /** Refused by the user or by time (push denied, expired): counted like a wrong answer. */
  | { kind: 'refused'; reason: ReasonCode };

export interface ChallengeMethod {
  readonly type: Method;
  /**
   * Starts only after a proved first factor (PIN, directory password, upstream): a method whose
   * answer is a tap (push) must never be set off by someone who knows only the username.
   */
  readonly needsFirstFactor?: boolean;
  /** Name in the menu, e.g. "Email to j***@example.com" (masked). Never a secret. */
  label(token: Token, user: User): string;
  /** A challenge for this token starts: send a code, create a push, or nothing (TOTP/HOTP). */
  start(ctx: MethodContext): Promise<MethodStart>;
  /**
   * Answers a challenge bound to this token. Absent: the pass is checked as an OTP of the token
   * (TOTP/HOTP/YubiKey through the existing code check).
   */
  answer?(ctx: MethodContext & { pass: string; state: MethodState }): Promise<MethodAnswer>;
}

/** Looks methods up by token type; the validator asks it for every challenge it starts or answers. */
export interface MethodRegistry {
  methodFor(type: Method): ChallengeMethod | undefined;
}
