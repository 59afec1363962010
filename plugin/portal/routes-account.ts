import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Client, canonicalUsername, TesseraError } from '../../src/model/index.ts';
import {
  generateRecoveryCodes,
  humanTime,
  listDevices,
  onlineRegistrationAllowed,
  recoveryCodesLeft,
  renameDevice,
  resyncDevice,
  setDefaultDevice,
} from '../../src/portal/index.ts';
import type { Portal, Session } from './state.ts';

type Form = Record<string, string | undefined>;

/** The portal as a relying system: its logins go through the validator like any client's. */
function portalClient(firstFactor: Client['firstFactor']): Client {
  return {
    id: 'portal',
    name: 'self-service portal',
    kind: 'api',
    keyHash: '',
    allowedCidrs: [],
    challengeText: 'Code?',
    enabled: true,
    unknownUserPolicy: 'reject',
    rejectDetail: 'reason',
    firstFactor,
    createdAt: 0,
  };
}

const DONE: Record<string, string> = {
  enrolled: 'Your authenticator is set up. Consider making a set of recovery codes now.',
  added: 'The new device is active.',
  replaced: 'The new phone is active and the old one no longer works.',
  renamed: 'Renamed.',
  default: 'Default device changed.',
  resynced: 'The device is in step again.',
  paired: 'Your devices, with the phone paired online.',
};

const REFUSED: Record<string, string> = {
  online: 'Pairing a phone online is not enabled for your account.',
  device: 'There is no such device.',
};

const SIGNIN_FAILED = 'Sign-in failed: the username, password or code is not right.';

export async function accountRoutes(app: FastifyInstance, portal: Portal): Promise<void> {
  const guard = { preHandler: app.csrfProtection };

  const home = async (
    request: FastifyRequest,
    reply: FastifyReply,
    session: Session,
    extra: { notice?: string; error?: string } = {},
    status = 200,
  ) => {
    const ctx = portal.ctx(request, `portal:${session.u}`);
    const devices = (await listDevices(ctx, session.u)).map((d) => ({
      ...d,
      enrolled: humanTime(d.enrolledAt),
      lastUsed: d.lastUsedAt === null ? 'not yet known' : humanTime(d.lastUsedAt),
      lastSync: d.lastSyncAt ? humanTime(d.lastSyncAt) : 'not yet',
    }));
    return portal.page(
      request,
      reply,
      'devices',
      {
        title: 'My sign-in devices',
        signedIn: session.u,
        devices,
        recovery: await recoveryCodesLeft(ctx.store, session.u),
        online: await onlineRegistrationAllowed(ctx, session.u),
        ...extra,
      },
      status,
    );
  };

  app.get<{ Querystring: { done?: string; refused?: string } }>('/', async (request, reply) => {
    const session = await portal.signedIn(request);
    if (!session) return portal.page(request, reply, 'signin', { title: 'Sign in' });
    const notice = Object.hasOwn(DONE, request.query.done ?? '') ? DONE[request.query.done!] : undefined;
    const refused = request.query.refused ?? '';
    const error = Object.hasOwn(REFUSED, refused) ? REFUSED[refused] : undefined;
    return home(request, reply, session, { ...(notice ? { notice } : {}), ...(error ? { error } : {}) });
  });

  app.post<{ Body: Form }>('/signin', guard, async (request, reply) => {
    const raw = (request.body.username ?? '').trim();
    const password = request.body.password ?? '';
    const code = (request.body.code ?? '').trim();
    const fail = (error: string, status = 401) =>
      portal.page(request, reply, 'signin', { title: 'Sign in', error, username: raw }, status);
    const username = canonicalUsername(raw);
    if (!username || !code) return fail(SIGNIN_FAILED);
    const ctx = portal.ctx(request, `portal:${username}`);
    const user = await ctx.store.getUser(username);
    // The first round proves what the user has besides the device: the directory password, the
    // PIN, or nothing. The second answers with the code (or a recovery code).
    const client = portalClient(user?.directory ? 'ldap' : 'pin');
    const first = user?.directory || user?.pinHash ? password : '';
    const base = { user: username, client, sourceIp: request.ip };
    const round1 = await portal.options.validator.validate({ ...base, pass: first });
    if (round1.result !== 'challenge') {
      if (round1.result === 'accept')
        return fail('You have no active authenticator yet. Use the invitation mail from your helpdesk.', 403);
      return fail(
        round1.reason === 'USER_LOCKED' || round1.reason === 'USER_THROTTLED'
          ? (round1.message ?? SIGNIN_FAILED)
          : SIGNIN_FAILED,
      );
    }
    const round2 = await portal.options.validator.validate({
      ...base,
      pass: code,
      transactionId: round1.transactionId!,
    });
    if (round2.result !== 'accept' || round2.reason !== 'OK' || !user) {
      return fail(
        round2.reason === 'USER_LOCKED' || round2.reason === 'USER_THROTTLED'
          ? (round2.message ?? SIGNIN_FAILED)
          : SIGNIN_FAILED,
      );
    }
    portal.session.write(reply, { u: user.username, c: user.createdAt });
    return reply.redirect('/portal/', 303);
  });

  app.post('/signout', guard, async (_request, reply) => {
    portal.session.clear(reply);
    portal.newDevice.clear(reply);
    return reply.redirect('/portal/', 303);
  });

  const signed = async (
    request: FastifyRequest,
    reply: FastifyReply,
    act: (s: Session) => Promise<FastifyReply>,
  ) => {
    const session = await portal.signedIn(request);
    if (!session) return reply.redirect('/portal/', 303);
    try {
      return await act(session);
    } catch (err) {
      if (err instanceof TesseraError && (err.code === 'NOT_FOUND' || err.code === 'BAD_REQUEST'))
        return home(request, reply, session, { error: err.message }, err.status);
      throw err;
    }
  };

  app.post<{ Params: { serial: string }; Body: Form }>('/devices/:serial/rename', guard, (request, reply) =>
    signed(request, reply, async (s) => {
      await renameDevice(
        portal.ctx(request, `portal:${s.u}`),
        s.u,
        request.params.serial,
        request.body.name ?? '',
      );
      return reply.redirect('/portal/?done=renamed', 303);
    }),
  );

  app.post<{ Params: { serial: string } }>('/devices/:serial/default', guard, (request, reply) =>
    signed(request, reply, async (s) => {
      await setDefaultDevice(portal.ctx(request, `portal:${s.u}`), s.u, request.params.serial);
      return reply.redirect('/portal/?done=default', 303);
    }),
  );

  app.post<{ Params: { serial: string }; Body: Form }>('/devices/:serial/resync', guard, (request, reply) =>
    signed(request, reply, async (s) => {
      const r = await resyncDevice(
        portal.ctx(request, `portal:${s.u}`),
        s.u,
        request.params.serial,
        request.body.code1 ?? '',
        request.body.code2 ?? '',
      );
      if (r === 'ok') return reply.redirect('/portal/?done=resynced', 303);
      const error =
        r === 'failed'
          ? 'Those two codes are not two codes in a row of this device. Type the code shown, wait for the next, and type that.'
          : 'Too many attempts; try again later.';
      return home(request, reply, s, { error }, 400);
    }),
  );

  app.post('/recovery', guard, (request, reply) =>
    signed(request, reply, async (s) => {
      const codes = await generateRecoveryCodes(portal.ctx(request, `portal:${s.u}`), s.u);
      const text = `Recovery codes for ${s.u} (each works once)\n\n${codes.join('\n')}\n`;
      return portal.page(request, reply, 'recovery', {
        title: 'Your new recovery codes',
        signedIn: s.u,
        codes,
        download: `data:text/plain;charset=utf-8,${encodeURIComponent(text)}`,
      });
    }),
  );
}
