import { TesseraError } from '../model/index.ts';
import { type PairingStart, startPairing } from '../push/pairing.ts';
import { onlineRegistrationFor } from '../push/settings.ts';
import { nowOf, type SelfServiceContext } from './context.ts';

/** Where the phone reaches this node: the portal's public URL without its `portal/` path. */
export function publicBaseUrl(ctx: Pick<SelfServiceContext, 'portalUrl'>): string {
  return new URL('../', ctx.portalUrl).toString();
}

/** Whether the user may pair a phone online (the group's switch, else the global one). */
export async function onlineRegistrationAllowed(ctx: SelfServiceContext, username: string): Promise<boolean> {
  const user = await ctx.store.getUser(username);
  return user !== null && onlineRegistrationFor(await ctx.settings(), user.group);
}

/**
 * "Add phone (online)" (no serial) or "Rescan device" (the serial of an offline TOTP device, or of
 * an online one paired again): a single-use pairing token the phone presents. A rescanned device
 * keeps its serial, history and current seed until the phone pairs; pairing rotates the seed.
 */
export async function startOnlineDevice(
  ctx: SelfServiceContext,
  username: string,
  serial?: string,
): Promise<PairingStart> {
  if (!(await onlineRegistrationAllowed(ctx, username)))
    throw new TesseraError('BAD_REQUEST', 'online registration is not enabled for your account');
  if (serial !== undefined) {
    const token = await ctx.store.getToken(serial);
    if (!token || token.username !== username || token.status !== 'active')
      throw new TesseraError('NOT_FOUND', 'no such device');
  }
  const started = await startPairing(ctx, username, {
    baseUrl: publicBaseUrl(ctx),
    now: nowOf(ctx),
    ...(serial === undefined ? { description: 'Authenticator app' } : { serial }),
  });
  if (serial === undefined && started.token.enrolledVia !== 'portal')
    await ctx.store.putToken({ ...started.token, enrolledVia: 'portal' });
  return started;
}

export type PairingProgress = 'waiting' | 'paired' | 'expired';

/** Whether the phone has paired since `startedAt`: the portal's "waiting for the phone" asks this. */
export async function pairingProgress(
  ctx: SelfServiceContext,
  username: string,
  serial: string,
  startedAt: number,
  expiresAt: number,
): Promise<{ state: PairingProgress; name?: string }> {
  const token = await ctx.store.getToken(serial);
  if (!token || token.username !== username) return { state: 'expired' };
  const device = token.device;
  if (token.status === 'active' && device?.registration === 'online' && (device.pairedAt ?? 0) >= startedAt)
    return { state: 'paired', ...(device.name ? { name: device.name } : {}) };
  return { state: nowOf(ctx) >= expiresAt ? 'expired' : 'waiting' };
}
