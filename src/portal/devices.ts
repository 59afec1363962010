import { resyncToken } from '../admin/index.ts';
import { type DeviceConfig, TesseraError, type Token } from '../model/index.ts';
import { deviceConfig } from '../push/settings.ts';
import { humanTime, nowOf, type SelfServiceContext } from './context.ts';
import { activate } from './invitations.ts';
import { createPendingToken, type PendingEnrolment, showPending } from './pending-token.ts';
import { type ProofResult, proveCode } from './prove.ts';

export interface DeviceView {
  serial: string;
  type: string;
  name: string;
  isDefault: boolean;
  status: Token['status'];
  enrolledAt: number;
  /** Epoch ms of the last accepted code's time step (TOTP); null when never used or not known (HOTP). */
  lastUsedAt: number | null;
  registeredBy: 'an administrator' | 'an invitation link' | 'this portal';
  /** Offline: an app scanned a plain TOTP QR; online: a paired phone that gets pushes. */
  registration: 'offline' | 'online';
  /** Online devices: the name the phone gave, its last contact, what the server tells it. */
  deviceName?: string;
  lastSyncAt?: number | null;
  config?: DeviceConfig;
  /** An offline TOTP device can be rescanned by the authenticator app to go online in place. */
  canGoOnline: boolean;
}

const REGISTERED: Record<NonNullable<Token['enrolledVia']>, DeviceView['registeredBy']> = {
  admin: 'an administrator',
  invitation: 'an invitation link',
  portal: 'this portal',
};

/** The user's devices as the portal lists them (pending ones are half-enrolled and not shown). */
export async function listDevices(ctx: SelfServiceContext, username: string): Promise<DeviceView[]> {
  const tokens = (await ctx.store.listTokens(username)).filter((t) => t.status !== 'pending');
  const out: DeviceView[] = [];
  const settings = await ctx.settings();
  for (const t of tokens) {
    const state = await ctx.store.getTokenState(t.serial);
    const online = t.device?.registration === 'online' && t.device.pairedAt !== undefined;
    const deviceState = online ? await ctx.store.push.getDeviceState(t.serial) : null;
    out.push({
      serial: t.serial,
      type: t.type.toUpperCase(),
      name: t.description ?? t.serial,
      isDefault: t.isDefault,
      status: t.status,
      enrolledAt: t.createdAt,
      lastUsedAt: t.type === 'totp' && state.lastUsedStep >= 0 ? state.lastUsedStep * t.period * 1000 : null,
      registeredBy: REGISTERED[t.enrolledVia ?? 'admin'],
      registration: online ? 'online' : 'offline',
      ...(online
        ? {
            ...(t.device?.name ? { deviceName: t.device.name } : {}),
            lastSyncAt: deviceState?.lastSyncAt ?? t.device?.pairedAt ?? null,
            config: deviceConfig(t, settings),
          }
        : {}),
      canGoOnline: (t.type === 'totp' || t.type === 'push') && t.status === 'active',
    });
  }
  return out.sort((a, b) => Number(b.isDefault) - Number(a.isDefault) || a.enrolledAt - b.enrolledAt);
}

async function own(ctx: SelfServiceContext, username: string, serial: string): Promise<Token> {
  const token = await ctx.store.getToken(serial);
  if (!token || token.username !== username || token.status === 'pending')
    throw new TesseraError('NOT_FOUND', 'no such device');
  return token;
}

export async function renameDevice(
  ctx: SelfServiceContext,
  username: string,
  serial: string,
  name: string,
): Promise<void> {
  const clean = name.replace(/\p{C}/gu, '').trim().slice(0, 64);
  if (!clean) throw new TesseraError('BAD_REQUEST', 'a name must not be empty');
  const token = await own(ctx, username, serial);
  await ctx.store.putToken({ ...token, description: clean, updatedAt: Date.now() });
  ctx.audit('token.update', { username, serial, description: clean });
}

export async function setDefaultDevice(
  ctx: SelfServiceContext,
  username: string,
  serial: string,
): Promise<void> {
  const chosen = await own(ctx, username, serial);
  if (chosen.status !== 'active')
    throw new TesseraError('BAD_REQUEST', 'only an active device can be the default');
  for (const t of await ctx.store.listTokens(username)) {
    const isDefault = t.serial === serial;
    if (t.isDefault !== isDefault) await ctx.store.putToken({ ...t, isDefault, updatedAt: Date.now() });
  }
  ctx.audit('token.default', { username, serial });
}

/** Two consecutive codes find a drifted device again (the admin resync, inside a reserved attempt). */
export async function resyncDevice(
  ctx: SelfServiceContext,
  username: string,
  serial: string,
  code1: string,
  code2: string,
): Promise<'ok' | 'failed' | 'locked' | 'throttled'> {
  await own(ctx, username, serial);
  const settings = await ctx.settings();
  const now = nowOf(ctx);
  const reservation = await ctx.store.reserveAttempt(username, now, {
    lockout: settings.lockout,
    windowMs: settings.throttle.windowSeconds * 1000,
    failuresPerWindow: settings.throttle.failuresPerWindow,
  });
  if (!reservation.granted) return reservation.refusal;
  try {
    await resyncToken(ctx, username, serial, code1.trim(), code2.trim(), now);
  } catch (err) {
    if (!(err instanceof TesseraError) || err.code !== 'RESYNC_FAILED') throw err;
    const after = await ctx.store.commitFailure(username, now, { lockout: settings.lockout, windowMs: 0 });
    return after.lockedUntil > now ? 'locked' : 'failed';
  }
  await ctx.store.refundAttempt(username, reservation.ticket);
  return 'ok';
}

/** A new phone: a pending token to scan; `replaces` is the device it will retire (none: an extra device). */
export async function startNewDevice(
  ctx: SelfServiceContext,
  username: string,
  replaces?: string,
): Promise<PendingEnrolment> {
  if (replaces) await own(ctx, username, replaces);
  return showPending(ctx, await createPendingToken(ctx, username, 'portal'));
}

export async function pendingOf(
  ctx: SelfServiceContext,
  username: string,
  serial: string,
): Promise<PendingEnrolment | null> {
  const token = await ctx.store.getToken(serial);
  if (!token || token.username !== username || token.status !== 'pending') return null;
  return showPending(ctx, token);
}

/**
 * Proves the new device's code; on success the new device becomes active first and only then is
 * the old one deleted, so the user is never left without a working device (a crash in between
 * leaves both).
 */
export async function finishNewDevice(
  ctx: SelfServiceContext,
  username: string,
  pendingSerial: string,
  code: string,
  replaces?: string,
): Promise<ProofResult | 'gone'> {
  const token = await ctx.store.getToken(pendingSerial);
  if (!token || token.username !== username || token.status !== 'pending') return 'gone';
  const old = replaces ? await ctx.store.getToken(replaces) : null;
  if (replaces && (!old || old.username !== username)) return 'gone';
  const result = await proveCode(ctx, token, code);
  if (result !== 'ok') return result;
  const active = await activate(ctx, { ...token, description: old?.description ?? 'Authenticator app' });
  const user = await ctx.store.getUser(username);
  const settings = await ctx.settings();
  if (old) {
    if (old.isDefault) await ctx.store.putToken({ ...active, isDefault: true, updatedAt: Date.now() });
    await ctx.store.deleteToken(old.serial);
    ctx.audit('token.replace', { username, serial: active.serial, replaced: old.serial });
    ctx.notifier.send('device-replaced', user?.email, {
      name: user?.displayName ?? username,
      oldDevice: `${old.description ?? old.serial} (${old.serial})`,
      device: `${active.description ?? active.serial} (${active.serial})`,
      when: humanTime(nowOf(ctx)),
    });
  } else {
    ctx.notifier.send('enrolment-done', user?.email, {
      name: user?.displayName ?? username,
      issuer: settings.issuer,
      device: active.serial,
      when: humanTime(nowOf(ctx)),
    });
  }
  return 'ok';
}

/** A pending token the user walked away from. */
export async function abandonPending(
  ctx: SelfServiceContext,
  username: string,
  serial: string,
): Promise<void> {
  const token = await ctx.store.getToken(serial);
  if (token && token.username === username && token.status === 'pending') await ctx.store.deleteToken(serial);
}
