import { type Client, type PushChallenge, pushStateAt } from '../../model/index.ts';
import { codesEqual } from '../../otp/index.ts';
import type { ChallengeMethod, MethodAnswer, MethodContext } from './types.ts';

/** What a login asks of src/push when its push challenge starts. */
export interface PushStartRequest {
  token: MethodContext['token'];
  client: Pick<Client, 'id' | 'name'>;
  sourceIp?: string;
  nasIdentifier?: string;
  /** `code`: the phone shows a code the user types at the login (no approve button). */
  mode?: 'approve' | 'code';
  /** The login's challenge, so a face that holds the request can find the push (hold mode). */
  transactionId?: string;
  /** False when the login cannot show a number (a held RADIUS request shows nothing until the end). */
  numberMatching?: boolean;
}

/** What the push method needs of src/push (kept as an interface: src/auth does not import it). */
export interface PushChallenges {
  create(req: PushStartRequest): Promise<PushChallenge | null>;
  get(id: string): Promise<PushChallenge | null>;
  /** A pending push becomes approved (code to phone: the code was typed at the login). */
  approve(id: string): Promise<boolean>;
  consume(id: string): Promise<boolean>;
}

export interface PushMethodDeps {
  push: PushChallenges;
}

/** How a client's logins use push: the phone approves, or shows a code the user types in. */
export function pushModeOf(client: Pick<Client, 'pushMode'>): 'approve' | 'code' {
  return client.pushMode === 'code' ? 'code' : 'approve';
}

function waitingMessage(push: PushChallenge): string {
  if (push.code !== undefined) return 'Enter the code shown on your phone.';
  if (push.number !== undefined) return `Approve the sign-in on your phone: pick ${push.number}.`;
  return 'Approve the sign-in on your phone.';
}

/**
 * Push approval as a challenge method. Start creates the push, only after a proved first factor
 * (`needsFirstFactor`: a PIN-less user on a RADIUS or API client gets PIN_REQUIRED, never a push;
 * Keycloak has checked its password), unless the user has too many pending already. Answering:
 * approved → accept, spent exactly once across nodes; pending → the challenge goes on; denied or
 * expired → refused. A code of the phone's TOTP seed (no network on the phone) answers too.
 */
export function pushMethod(deps: PushMethodDeps): ChallengeMethod {
  return {
    type: 'push',
    needsFirstFactor: true,
    label: (token) => `Push to ${token.device?.name ?? token.description ?? 'your phone'}`,
    async start(ctx) {
      const push = await deps.push.create({
        token: ctx.token,
        client: ctx.client,
        mode: pushModeOf(ctx.client),
        transactionId: ctx.transactionId,
        // a held request shows the user nothing before the phone answers: no number to match
        ...(ctx.client.pushMode === 'hold' ? { numberMatching: false } : {}),
        ...(ctx.sourceIp !== undefined ? { sourceIp: ctx.sourceIp } : {}),
        ...(ctx.nasIdentifier !== undefined ? { nasIdentifier: ctx.nasIdentifier } : {}),
      });
      if (!push) return { message: '', failure: 'PUSH_LIMIT' };
      return { message: waitingMessage(push), state: { push: push.id } };
    },
    async answer(ctx) {
      const push = await deps.push.get(String(ctx.state.push ?? ''));
      if (!push || push.serial !== ctx.token.serial) return { kind: 'refused', reason: 'PUSH_EXPIRED' };
      const pass = ctx.pass.trim();
      if (push.code !== undefined && pass !== '' && codesEqual(pass, push.code))
        return codeToPhone(deps, push);
      if (/^[0-9]{6}$/.test(pass)) return { kind: 'code' };
      if (pass !== '' && push.code !== undefined) return { kind: 'wrong' };
      switch (pushStateAt(push, ctx.now)) {
        case 'pending':
          return { kind: 'pending', message: waitingMessage(push) };
        case 'approved':
          return (await deps.push.consume(push.id))
            ? { kind: 'accept' }
            : { kind: 'refused', reason: 'PUSH_EXPIRED' };
        case 'denied':
          return { kind: 'refused', reason: 'PUSH_DENIED' };
        case 'expired':
          return { kind: 'refused', reason: 'PUSH_EXPIRED' };
      }
    },
  };
}

/** The user typed the code the phone shows: the push is approved and spent in the same breath. */
async function codeToPhone(deps: PushMethodDeps, push: PushChallenge): Promise<MethodAnswer> {
  if (!(await deps.push.approve(push.id)) || !(await deps.push.consume(push.id)))
    return { kind: 'refused', reason: 'PUSH_EXPIRED' };
  return { kind: 'accept' };
}
