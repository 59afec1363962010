import { createHash, createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { KeyRing } from '../../crypto/index.ts';
import {
  type CodeDeliverySettings,
  DEFAULT_CODE_DELIVERY,
  type ReasonCode,
  type Token,
  type User,
} from '../../model/index.ts';
import type { DeliveryResult } from '../../notify/index.ts';
import type { Store } from '../../store/index.ts';
import type { ChallengeMethod, MethodAnswer, MethodContext, MethodStart, MethodState } from './types.ts';

/** How one delivery went, for /metrics (`tessera_code_delivery_total{channel,result}`). */
export type DeliveryOutcome =
  | 'sent'
  | 'timeout'
  | 'unreachable'
  | 'refused'
  | 'not_configured'
  | 'rate_limited'
  | 'no_destination';

/** What a mail or SMS channel adds to the shared code logic. */
export interface CodeChannel {
  readonly type: 'email' | 'sms';
  /** The address or number codes for this token go to, normalised; null when there is none usable. */
  destination(token: Token, user: User): string | null;
  /** Shown to the user: never the whole address. */
  mask(destination: string): string;
  /** What the menu calls it, with the masked destination. */
  name: string;
  send(
    destination: string,
    code: string,
    ctx: MethodContext,
    settings: CodeDeliverySettings,
  ): Promise<DeliveryResult>;
}

export interface SentCodeDeps {
  store: Pick<Store, 'hitRateLimits'>;
  keyring: Pick<KeyRing, 'open'>;
  observe?: (channel: 'email' | 'sms', outcome: DeliveryOutcome) => void;
  log?: { warn(obj: object, msg: string): void };
}

/**
 * A code Tessera makes and sends (mail, SMS). The challenge keeps only an HMAC of it, keyed with the
 * token's own sealed key and bound to the transaction and token, so neither a store dump nor
 * another login's state reveals or accepts it; the validator takes the challenge on answer, so each
 * code is tried once. An empty answer asks for another code, up to `resendLimit` per login.
 */
export function sentCodeMethod(channel: CodeChannel, deps: SentCodeDeps): ChallengeMethod {
  async function send(ctx: MethodContext, sends: number): Promise<MethodStart> {
    const settings = ctx.settings.codeDelivery ?? DEFAULT_CODE_DELIVERY;
    const destination = channel.destination(ctx.token, ctx.user);
    if (!destination) {
      deps.observe?.(channel.type, 'no_destination');
      return { message: '', failure: 'DESTINATION_MISSING' };
    }
    const key = deps.keyring.open(ctx.token.secretSealed, ctx.token.serial);
    if (!key) return { message: '', failure: 'SEED_UNREADABLE' };
    const limits = await deps.store.hitRateLimits(
      [
        { key: `code:user:${ctx.user.username}`, ...limit(settings.perUser) },
        { key: `code:dest:${destinationKey(channel.type, destination)}`, ...limit(settings.perDestination) },
      ],
      ctx.now,
    );
    if (!limits.allowed) {
      deps.observe?.(channel.type, 'rate_limited');
      return { message: '', failure: 'DELIVERY_RATE_LIMITED' };
    }
    const code = newCode(settings.length);
    const result = await channel.send(destination, code, ctx, settings);
    if (!result.ok) {
      const outcome = result.why === 'not-configured' ? 'not_configured' : result.why;
      deps.observe?.(channel.type, outcome);
      deps.log?.warn(
        {
          channel: channel.type,
          serial: ctx.token.serial,
          username: ctx.user.username,
          why: result.why,
          detail: result.detail,
        },
        'a sign-in code could not be sent',
      );
      return { message: '', failure: 'DELIVERY_FAILED' };
    }
    deps.observe?.(channel.type, 'sent');
    const state: MethodState = {
      h: codeMac(key, ctx, code),
      exp: ctx.now + settings.lifetimeSeconds * 1000,
      n: sends,
    };
    return { message: `A code was sent to ${channel.mask(destination)}. Enter it here.`, state };
  }

  return {
    type: channel.type,
    label(token, user) {
      const d = channel.destination(token, user);
      return d ? `${channel.name} to ${channel.mask(d)}` : channel.name;
    },
    start: (ctx) => send(ctx, 1),
    async answer(ctx): Promise<MethodAnswer> {
      const { state, pass } = ctx;
      const sends = typeof state.n === 'number' ? state.n : 1;
      if (pass.trim() === '') return resend(ctx, sends);
      if (typeof state.exp !== 'number' || ctx.now >= state.exp)
        return { kind: 'refused', reason: 'CHALLENGE_EXPIRED' };
      const key = deps.keyring.open(ctx.token.secretSealed, ctx.token.serial);
      if (!key || typeof state.h !== 'string') return { kind: 'wrong' };
      return sameMac(codeMac(key, ctx, pass.trim()), state.h) ? { kind: 'accept' } : { kind: 'wrong' };
    },
  };

  async function resend(ctx: MethodContext & { state: MethodState }, sends: number): Promise<MethodAnswer> {
    const settings = ctx.settings.codeDelivery ?? DEFAULT_CODE_DELIVERY;
    if (sends > settings.resendLimit)
      return {
        kind: 'pending',
        message: 'No more codes can be sent for this sign-in; enter the last one or start again.',
      };
    const started = await send(ctx, sends + 1);
    if (started.failure)
      return { kind: 'pending', message: resendFailed(started.failure), reason: started.failure };
    return { kind: 'pending', message: started.message, ...(started.state ? { state: started.state } : {}) };
  }
}

function resendFailed(reason: ReasonCode): string {
  return reason === 'DELIVERY_RATE_LIMITED'
    ? 'Too many codes were sent lately; enter the last one or wait.'
    : 'Another code could not be sent; enter the last one or start again.';
}

function limit(l: CodeDeliverySettings['perUser']): { limit: number; windowMs: number } {
  return { limit: l.count, windowMs: l.windowSeconds * 1000 };
}

/** Uniform over all codes of that length, leading zeros kept. */
export function newCode(length: number): string {
  let out = '';
  while (out.length < length) out += String(randomInt(0, 1_000_000)).padStart(6, '0');
  return out.slice(0, length);
}

/** The code bound to this login and this token; keyed, so the stored value cannot be brute-forced offline. */
export function codeMac(
  key: Uint8Array,
  ctx: Pick<MethodContext, 'transactionId' | 'token'>,
  code: string,
): string {
  return createHmac('sha256', key)
    .update(`tessera-sent-code\0${ctx.transactionId}\0${ctx.token.serial}\0${code}`)
    .digest('base64url');
}

function sameMac(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The send-limit key of an address: hashed, so the store holds no address in clear. */
function destinationKey(type: 'email' | 'sms', destination: string): string {
  return createHash('sha256').update(`${type}\0${destination}`).digest('base64url').slice(0, 32);
}
