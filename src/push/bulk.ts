import { updateUser } from '../admin/index.ts';
import { canonicalUsername, TesseraError, type Token } from '../model/index.ts';
import { inviteUser, type SelfServiceContext } from '../portal/index.ts';

/** What enabling push did for one user. */
export type PushEnableResult =
  /** push on; the user has an online device already */
  | 'online'
  /** push on; an invitation to pair a phone was mailed */
  | 'invited'
  /** push on; no online device, and no invitation mailed (not asked for, or the mail could not go) */
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
  // one result (and at most one invitation) per user, however often or however spelled it is named
  for (const username of new Set(usernames.map((raw) => canonicalUsername(raw) ?? raw))) {
    const user = await ctx.store.getUser(username);
    if (!user) {
      out.push({ username, result: 'not-found' });
      continue;
    }
    // the admin trail's user.update, with the methods before and after
    if (user.methods.push !== 'enabled')
      await updateUser(ctx, username, { methods: { ...user.methods, push: 'enabled' } });
    if (hasOnlineDevice(await ctx.store.listTokens(username))) {
      out.push({ username, result: 'online' });
    } else if (!invite) {
      out.push({ username, result: 'enabled' });
    } else if (!user.email) {
      out.push({ username, result: 'no-address' });
    } else {
      try {
        const { mailed } = await inviteUser(ctx, username);
        out.push({ username, result: mailed ? 'invited' : 'enabled' });
      } catch (err) {
        // deleted meanwhile; anything else (the store away) is the caller's error, not a result
        if (!(err instanceof TesseraError && err.code === 'NOT_FOUND')) throw err;
        out.push({ username, result: 'not-found' });
      }
    }
  }
  return out;
}
