import { randomBytes } from 'node:crypto';
import { TesseraError, type Token } from '../model/index.ts';
import { base32Encode, otpauthUri, recommendedSecretBytes } from '../otp/index.ts';
import type { SelfServiceContext } from './context.ts';

export interface PendingEnrolment {
  token: Token;
  otpauthUri: string;
  /** The seed in base32, for typing into an app by hand. */
  secret: string;
}

/**
 * A new TOTP token in status `pending`: it authenticates nothing (the validator uses active tokens
 * only) until a code of it is proved (see proveAndActivate).
 */
export async function createPendingToken(
  ctx: SelfServiceContext,
  username: string,
  enrolledVia: 'invitation' | 'portal',
): Promise<Token> {
  const serial = `TOTP${randomBytes(5).toString('hex').toUpperCase()}`;
  const secret = randomBytes(recommendedSecretBytes('SHA1'));
  const now = Date.now();
  const token: Token = {
    serial,
    username,
    type: 'totp',
    isDefault: false,
    status: 'pending',
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
    secretSealed: ctx.keyring.seal(secret, serial),
    enrolledVia,
    createdAt: now,
    updatedAt: now,
  };
  if (!(await ctx.store.putToken(token)))
    throw new TesseraError('NOT_FOUND', `user "${username}" does not exist`);
  ctx.audit('token.enrol', { username, serial, status: 'pending', via: enrolledVia });
  return token;
}

/** The QR content and manual-entry secret of a pending token. */
export async function showPending(ctx: SelfServiceContext, token: Token): Promise<PendingEnrolment> {
  const secret = ctx.keyring.open(token.secretSealed, token.serial);
  if (!secret) throw new TesseraError('INTERNAL', `token "${token.serial}" cannot be opened on this node`);
  const settings = await ctx.settings();
  return {
    token,
    secret: base32Encode(secret),
    otpauthUri: otpauthUri({
      type: 'totp',
      issuer: settings.issuer,
      account: token.username,
      secret,
      algorithm: token.algorithm,
      digits: token.digits,
      period: token.period,
    }),
  };
}
