import { randomBytes } from 'node:crypto';
import { emailDestination, smsDestination } from '../auth/methods/index.ts';
import { requireCanonicalUsername, TesseraError, type Token, type User } from '../model/index.ts';
import { type AdminContext, auditChange } from './context.ts';
import { newTokenHead } from './tokens.ts';

/** A mail or SMS token: codes are made at sign-in and sent to the user's address or phone. */
export interface CodeTokenInput {
  type: 'email' | 'sms';
  /** Where codes go instead of the user's own `email` / `phone` (kept on the token). */
  destination?: string;
  description?: string;
  isDefault?: boolean;
  serial?: string;
}

/**
 * Enrols a mail or SMS token. It holds no OTP seed: its sealed secret is a random key that MACs
 * the codes it is sent (src/auth/methods/sent-code.ts). Refused when the codes would have nowhere
 * to go (no destination given, and the user has no address or phone number of that kind).
 */
export async function enrolCodeToken(ctx: AdminContext, name: string, input: CodeTokenInput): Promise<Token> {
  const username = requireCanonicalUsername(name);
  const user = await ctx.store.getUser(username);
  if (!user) throw new TesseraError('NOT_FOUND', `user "${username}" does not exist`);
  const head = await newTokenHead(ctx, username, input.type, input);
  const token: Token = {
    ...head,
    algorithm: 'SHA256',
    digits: 6,
    period: 30,
    secretSealed: ctx.keyring.seal(randomBytes(32), head.serial),
    enrolledVia: 'admin',
    ...(input.destination !== undefined ? { destination: input.destination.trim() } : {}),
  };
  if (!destinationOf(token, user)) {
    const what = input.type === 'email' ? 'a mail address' : 'a phone number';
    throw new TesseraError(
      'BAD_REQUEST',
      input.destination !== undefined
        ? `destination is not ${what}`
        : `user "${username}" has no ${input.type === 'email' ? 'email' : 'phone'}; give ${what} as destination`,
    );
  }
  if (!(await ctx.store.putToken(token)))
    throw new TesseraError('NOT_FOUND', `user "${username}" does not exist`);
  auditChange(ctx, 'token.enrol', { username, serial: token.serial }, null, token);
  return token;
}

function destinationOf(token: Token, user: User): string | null {
  return token.type === 'email' ? emailDestination(token, user) : smsDestination(token, user);
}
