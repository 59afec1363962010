import { canonicalUsername, TesseraError, type Token } from '../model/index.ts';
import { inviteUser, type SelfServiceContext } from '../portal/index.ts';

/** What enabling push did for one user. */
export type PushEnableResult =
  /** push on; the user has an online device already */
  | 'online'
  /** push on; an invitation to pair a phone was mailed */
  | 'invited'
  /** push on; no online device, and no invitation (not asked for, or no mail address) */
  | 'enabled'
  | 'no-address'
  | 'not-found';

const hasOnlineDevice = (tokens: Token[]) =>
  tokens.some((t) => t.type === 'push' && t.status === 'active' && t.device?.registration === 'online');

/**
 * The bulk action: switches the push method on for each user and, unless `invite` is false, mails
 * each user without an online device an invitation to the portal (where the phone pairs). One
 * user's problem does not stop the others; each gets its own result.
 */
export async function enablePush(
  ctx: SelfServiceContext,
  usernames: readonly string[],
  invite = true,
): Promise<{ username: string; result: PushEnableResult }[]> {
  const out: { username: string; result: PushEnableResult }[] = [];
  for (const raw of usernames) {
    const username = canonicalUsername(raw) ?? raw;
    const user = await ctx.store.getUser(username);
    if (!user) {
      out.push({ username, result: 'not-found' });
      continue;
    }
    if (user.methods.push !== 'enabled') {
      await ctx.store.updateUser({
        ...user,
        methods: { ...user.methods, push: 'enabled' },
        updatedAt: Date.now(),
      });
      ctx.audit('user.push-enable', { username });
    }
    if (hasOnlineDevice(await ctx.store.listTokens(username))) {
      out.push({ username, result: 'online' });
    } else if (!invite) {
      out.push({ username, result: 'enabled' });
    } else if (!user.email) {
      out.push({ username, result: 'no-address' });
    } else {
      try {
        await inviteUser(ctx, username);
        out.push({ username, result: 'invited' });
      } catch (err) {
        if (!(err instanceof TesseraError)) throw err;
        out.push({ username, result: 'no-address' });
      }
    }
  }
  return out;
}
