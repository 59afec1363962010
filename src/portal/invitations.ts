import { createHash, randomBytes } from 'node:crypto';
import {
  type Invitation,
  requireCanonicalUsername,
  TesseraError,
  type Token,
  type User,
} from '../model/index.ts';
import { humanTime, nowOf, type SelfServiceContext } from './context.ts';
import { createPendingToken, type PendingEnrolment, showPending } from './pending-token.ts';
import { type ProofResult, proveCode } from './prove.ts';

/** 256 random bits, base64url: the part of the link that is the credential. */
const SECRET_BYTES = 32;
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function invitationId(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export interface InvitationView {
  username: string;
  status: 'open' | 'used' | 'revoked' | 'expired';
  createdAt: number;
  expiresAt: number;
  createdBy: string;
  usedAt?: number;
  revokedAt?: number;
  sentTo?: string;
  /** Whether the user has an active token now (false: not enrolled yet). */
  enrolled: boolean;
}

export function invitationStatus(inv: Invitation, now: number): InvitationView['status'] {
  return inv.status === 'open' && inv.expiresAt <= now ? 'expired' : inv.status;
}

async function existingUser(ctx: SelfServiceContext, name: string): Promise<User> {
  const username = requireCanonicalUsername(name);
  const user = await ctx.store.getUser(username);
  if (!user) throw new TesseraError('NOT_FOUND', `user "${username}" does not exist`);
  return user;
}

/**
 * Sends a user an invitation: a single-use link (256 random bits; only its hash is stored) that
 * expires, mailed to `sendTo` or the user's address. Open invitations the user had are revoked: the
 * newest link is the only one that works.
 */
export async function inviteUser(
  ctx: SelfServiceContext,
  name: string,
  opts: { sendTo?: string; ttlMs?: number } = {},
): Promise<{ view: InvitationView; mailed: boolean }> {
  const user = await existingUser(ctx, name);
  const to = opts.sendTo ?? user.email;
  if (!to) throw new TesseraError('BAD_REQUEST', `user "${user.username}" has no mail address; give sendTo`);
  const now = nowOf(ctx);
  await revokeOpen(ctx, user.username, now, false);
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  const invitation: Invitation = {
    id: invitationId(secret),
    username: user.username,
    userCreatedAt: user.createdAt,
    createdAt: now,
    expiresAt: now + (opts.ttlMs ?? ctx.invitationTtlMs),
    createdBy: ctx.actor,
    status: 'open',
    sentTo: to,
  };
  await ctx.store.putInvitation(invitation);
  const settings = await ctx.settings();
  const mailed = ctx.notifier.send('invitation', to, {
    name: user.displayName ?? user.username,
    issuer: settings.issuer,
    link: `${ctx.portalUrl}i/${secret}`,
    expires: humanTime(invitation.expiresAt),
  });
  ctx.audit('invitation.send', {
    username: user.username,
    sentTo: to,
    expiresAt: new Date(invitation.expiresAt).toISOString(),
    mailed: String(mailed),
  });
  return { view: await viewOf(ctx, invitation, now), mailed };
}

async function revokeOpen(
  ctx: SelfServiceContext,
  username: string,
  now: number,
  audit: boolean,
): Promise<number> {
  let n = 0;
  for (const inv of await ctx.store.listInvitations()) {
    if (inv.username !== username || inv.status !== 'open') continue;
    await ctx.store.putInvitation({ ...inv, status: 'revoked', revokedAt: now });
    if (inv.serial) await dropPending(ctx, inv.serial);
    n++;
  }
  if (audit) ctx.audit('invitation.revoke', { username, revoked: String(n) });
  return n;
}

/** Revokes every open invitation of the user (their links stop working at once); how many. */
export async function revokeInvitations(ctx: SelfServiceContext, name: string): Promise<number> {
  const user = await existingUser(ctx, name);
  return revokeOpen(ctx, user.username, nowOf(ctx), true);
}

async function dropPending(ctx: SelfServiceContext, serial: string): Promise<void> {
  const token = await ctx.store.getToken(serial);
  if (token?.status === 'pending') await ctx.store.deleteToken(serial);
}

async function viewOf(ctx: SelfServiceContext, inv: Invitation, now: number): Promise<InvitationView> {
  const tokens = await ctx.store.listTokens(inv.username);
  return {
    username: inv.username,
    status: invitationStatus(inv, now),
    createdAt: inv.createdAt,
    expiresAt: inv.expiresAt,
    createdBy: inv.createdBy,
    enrolled: tokens.some((t) => t.status === 'active'),
    ...(inv.usedAt !== undefined ? { usedAt: inv.usedAt } : {}),
    ...(inv.revokedAt !== undefined ? { revokedAt: inv.revokedAt } : {}),
    ...(inv.sentTo !== undefined ? { sentTo: inv.sentTo } : {}),
  };
}

/** Every invitation, newest first; `notEnrolled` keeps those whose user has no active token yet. */
export async function listInvitations(
  ctx: SelfServiceContext,
  opts: { notEnrolled?: boolean } = {},
): Promise<InvitationView[]> {
  const now = nowOf(ctx);
  const out: InvitationView[] = [];
  for (const inv of (await ctx.store.listInvitations()).reverse()) {
    const view = await viewOf(ctx, inv, now);
    if (!opts.notEnrolled || !view.enrolled) out.push(view);
  }
  return out;
}

export type LinkRefusal = 'unknown' | 'expired' | 'used' | 'revoked';

/** The invitation a link's secret opens, or why it opens none. */
export async function openInvitation(
  ctx: SelfServiceContext,
  secret: string,
): Promise<{ ok: true; invitation: Invitation; user: User } | { ok: false; why: LinkRefusal }> {
  if (!SECRET_PATTERN.test(secret)) return { ok: false, why: 'unknown' };
  return openById(ctx, invitationId(secret));
}

export async function openById(
  ctx: SelfServiceContext,
  id: string,
): Promise<{ ok: true; invitation: Invitation; user: User } | { ok: false; why: LinkRefusal }> {
  const inv = await ctx.store.getInvitation(id);
  if (!inv) return { ok: false, why: 'unknown' };
  const user = await ctx.store.getUser(inv.username);
  // a user deleted (and maybe created again under the name) is not the one invited
  if (!user || user.createdAt !== inv.userCreatedAt) return { ok: false, why: 'unknown' };
  const status = invitationStatus(inv, nowOf(ctx));
  if (status !== 'open') return { ok: false, why: status };
  return { ok: true, invitation: inv, user };
}

/**
 * What the link's page shows: a pending token made on the first visit, shown again on later
 * visits until the invitation is used or expires ("Later").
 */
export async function enrolmentFor(ctx: SelfServiceContext, inv: Invitation): Promise<PendingEnrolment> {
  let token: Token | null = inv.serial ? await ctx.store.getToken(inv.serial) : null;
  if (token?.status !== 'pending' || token.username !== inv.username) {
    token = await createPendingToken(ctx, inv.username, 'invitation');
    await ctx.store.putInvitation({ ...inv, serial: token.serial });
  }
  return showPending(ctx, token);
}

export type EnrolResult = ProofResult | 'gone';

/**
 * The user typed a code of the new token: if it proves, the invitation is used (once, atomically)
 * and the token becomes active. A wrong code counts like a failed login.
 */
export async function finishInvitation(
  ctx: SelfServiceContext,
  inv: Invitation,
  code: string,
): Promise<{ result: EnrolResult; token?: Token }> {
  const token = inv.serial ? await ctx.store.getToken(inv.serial) : null;
  if (token?.status !== 'pending') return { result: 'gone' };
  const result = await proveCode(ctx, token, code);
  if (result !== 'ok') return { result };
  if (!(await ctx.store.useInvitation(inv.id, nowOf(ctx)))) return { result: 'gone' };
  const active = await activate(ctx, token);
  const user = await ctx.store.getUser(token.username);
  ctx.audit('invitation.enrolled', { username: token.username, serial: token.serial });
  ctx.notifier.send('enrolment-done', user?.email, {
    name: user?.displayName ?? token.username,
    issuer: (await ctx.settings()).issuer,
    device: active.description ?? active.serial,
    when: humanTime(nowOf(ctx)),
  });
  return { result: 'ok', token: active };
}

/** Makes a proved pending token active; the default when the user has no other active token. */
export async function activate(ctx: SelfServiceContext, token: Token): Promise<Token> {
  const others = (await ctx.store.listTokens(token.username)).filter(
    (t) => t.serial !== token.serial && t.status === 'active',
  );
  const next: Token = {
    ...token,
    status: 'active',
    isDefault: !others.some((t) => t.isDefault),
    description: token.description ?? 'Authenticator app',
    updatedAt: Date.now(),
  };
  await ctx.store.putToken(next);
  ctx.audit('token.activate', { username: token.username, serial: token.serial });
  return next;
}

/** What a directory sync invites its new users with (src/directory/sync.ts `Inviter`). */
export function syncInviter(ctx: SelfServiceContext): (username: string) => Promise<boolean> {
  return async (username) => (await inviteUser(ctx, username)).mailed;
}
