import type { FastifyRequest } from 'fastify';
import { enablePush, type PushEnableResult } from '../../src/push/index.ts';
import { consoleSelfService } from './actor.ts';
import type { UiFaceOptions } from './options.ts';

const SAID: Record<PushEnableResult, string> = {
  online: 'already paired',
  invited: 'invited to pair a phone',
  enabled: 'switched on',
  'no-address': 'switched on, no mail address to invite',
  'not-found': 'not found',
};

/**
 * The users page's "Enable push": the same function as POST /v1/admin/push/enable (push switched
 * on, an invitation mailed to each user without an online device), told back as one line.
 */
export async function enablePushFor(
  face: UiFaceOptions,
  request: FastifyRequest,
  names: string[],
): Promise<string> {
  const items = await enablePush(consoleSelfService(face, request), names, true);
  const by = new Map<PushEnableResult, string[]>();
  for (const { username, result } of items) by.set(result, [...(by.get(result) ?? []), username]);
  const switched = items.length - (by.get('not-found')?.length ?? 0);
  const parts = [`Push enabled for ${switched} user(s).`];
  for (const [result, users] of by) parts.push(`${users.length} ${SAID[result]}: ${users.join(', ')}.`);
  return parts.join(' ');
}
