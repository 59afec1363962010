import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  abandonPending,
  enrolmentFor,
  finishInvitation,
  finishNewDevice,
  humanTime,
  type LinkRefusal,
  openById,
  openInvitation,
  type PendingEnrolment,
  type ProofResult,
  pendingOf,
  startNewDevice,
} from '../../src/portal/index.ts';
import { qrSvg } from '../shared/index.ts';
import type { Portal } from './state.ts';

type Form = Record<string, string | undefined>;

const REFUSED: Record<LinkRefusal, { status: number; title: string; text: string }> = {
  unknown: {
    status: 404,
    title: 'This link is not valid',
    text: 'This invitation link is not one we sent, or it was copied incompletely. Copy the whole link from the mail, or ask your helpdesk for a new invitation.',
  },
  expired: {
    status: 410,
    title: 'This invitation has expired',
    text: 'Invitation links work for a limited time. Ask your helpdesk to send you a new one.',
  },
  used: {
    status: 410,
    title: 'This invitation was used already',
    text: 'Each invitation link works once, and this one has set up an authenticator already. Sign in to manage your devices.',
  },
  revoked: {
    status: 410,
    title: 'This invitation was withdrawn',
    text: 'A newer invitation replaced this link, or your helpdesk withdrew it. Use the newest mail, or ask for a new invitation.',
  },
};

export const PROOF_TEXT: Record<ProofResult | 'gone', string> = {
  ok: '',
  invalid: 'That code is not right. Check that the app shows this account, and type the code it shows now.',
  reused: 'That code was used already. Wait for the next one.',
  locked: 'Too many wrong codes: your account is locked for a while. Try again later.',
  throttled: 'Too many attempts. Wait a minute and try again.',
  gone: 'This enrolment is no longer open. Start again.',
};

/** A QR code for the portal's pages (a narrower quiet zone than the console's). */
export function portalQr(
  uri: string,
  label = 'QR code to scan with your authenticator app',
): Promise<string> {
  return qrSvg(uri, label, { margin: 2 });
}

async function showEnrolment(
  portal: Portal,
  request: FastifyRequest,
  reply: FastifyReply,
  e: PendingEnrolment,
  extra: {
    action: string;
    laterAction?: string;
    laterText?: string;
    error?: string;
    title: string;
    signedIn?: string;
  },
  status = 200,
): Promise<FastifyReply> {
  return portal.page(
    request,
    reply,
    'enrol',
    {
      ...extra,
      qr: await portalQr(e.otpauthUri),
      secret: e.secret.replace(/(.{4})/g, '$1 ').trim(),
      otpauthUri: e.otpauthUri,
    },
    status,
  );
}

/** Invitation links and new devices: show a pending token, prove a code, activate. */
export async function enrolRoutes(app: FastifyInstance, portal: Portal): Promise<void> {
  const guard = { preHandler: app.csrfProtection };

  // The link's secret is in this URL: the request is not logged at info (the default level).
  app.get<{ Params: { secret: string } }>('/i/:secret', { logLevel: 'warn' }, async (request, reply) => {
    const ctx = portal.ctx(request, 'portal:invitation');
    const opened = await openInvitation(ctx, request.params.secret);
    if (!opened.ok) {
      const r = REFUSED[opened.why];
      return portal.page(
        request,
        reply,
        'message',
        { title: r.title, text: r.text, link: { href: '/portal/', text: 'Sign in' } },
        r.status,
      );
    }
    const enrolment = await enrolmentFor(
      portal.ctx(request, `portal:${opened.user.username}`),
      opened.invitation,
    );
    portal.enrol.write(reply, { inv: opened.invitation.id });
    return showEnrolment(portal, request, reply, enrolment, {
      title: `Set up your authenticator, ${opened.user.displayName ?? opened.user.username}`,
      action: '/portal/enrol',
      laterAction: '/portal/enrol/later',
      laterText: `The link in your mail keeps working until ${humanTime(opened.invitation.expiresAt)}.`,
    });
  });

  app.post<{ Body: Form }>('/enrol', guard, async (request, reply) => {
    const state = portal.enrol.read(request);
    const opened = state ? await openById(portal.ctx(request, 'portal:invitation'), state.inv) : null;
    if (!opened?.ok) {
      const r = REFUSED[opened && !opened.ok ? opened.why : 'unknown'];
      return portal.page(request, reply, 'message', { title: r.title, text: r.text }, r.status);
    }
    const ctx = portal.ctx(request, `portal:${opened.user.username}`);
    const { result } = await finishInvitation(ctx, opened.invitation, request.body.code ?? '');
    if (result === 'ok') {
      portal.enrol.clear(reply);
      portal.session.write(reply, { u: opened.user.username, c: opened.user.createdAt });
      return reply.redirect('/portal/?done=enrolled', 303);
    }
    const enrolment = await enrolmentFor(
      ctx,
      (await ctx.store.getInvitation(opened.invitation.id)) ?? opened.invitation,
    );
    return showEnrolment(
      portal,
      request,
      reply,
      enrolment,
      {
        title: 'Set up your authenticator',
        action: '/portal/enrol',
        laterAction: '/portal/enrol/later',
        laterText: `The link in your mail keeps working until ${humanTime(opened.invitation.expiresAt)}.`,
        error: PROOF_TEXT[result],
      },
      400,
    );
  });

  app.post('/enrol/later', guard, async (request, reply) => {
    const state = portal.enrol.read(request);
    const opened = state ? await openById(portal.ctx(request, 'portal:invitation'), state.inv) : null;
    portal.enrol.clear(reply);
    const until = opened?.ok ? ` until ${humanTime(opened.invitation.expiresAt)}` : '';
    return portal.page(request, reply, 'message', {
      title: 'Come back later',
      text: `Nothing was changed. Open the link in your invitation mail again when you are ready; it keeps working${until}.`,
    });
  });

  const start = async (request: FastifyRequest, reply: FastifyReply, replaces?: string) => {
    const session = await portal.signedIn(request);
    if (!session) return reply.redirect('/portal/', 303);
    const ctx = portal.ctx(request, `portal:${session.u}`);
    const old = portal.newDevice.read(request);
    if (old && old.u === session.u) await abandonPending(ctx, session.u, old.pending);
    const e = await startNewDevice(ctx, session.u, replaces);
    portal.newDevice.write(reply, {
      u: session.u,
      pending: e.token.serial,
      ...(replaces ? { replaces } : {}),
    });
    return showEnrolment(portal, request, reply, e, {
      title: replaces ? 'Move to a new phone' : 'Add a device',
      action: '/portal/devices/confirm',
      signedIn: session.u,
    });
  };
  app.post('/devices/new', guard, (request, reply) => start(request, reply));
  app.post<{ Params: { serial: string } }>('/devices/:serial/replace', guard, (request, reply) =>
    start(request, reply, request.params.serial),
  );

  app.post<{ Body: Form }>('/devices/confirm', guard, async (request, reply) => {
    const session = await portal.signedIn(request);
    const state = portal.newDevice.read(request);
    if (!session || !state || state.u !== session.u) return reply.redirect('/portal/', 303);
    const ctx = portal.ctx(request, `portal:${session.u}`);
    const result = await finishNewDevice(
      ctx,
      session.u,
      state.pending,
      request.body.code ?? '',
      state.replaces,
    );
    if (result === 'ok') {
      portal.newDevice.clear(reply);
      return reply.redirect(`/portal/?done=${state.replaces ? 'replaced' : 'added'}`, 303);
    }
    const e = await pendingOf(ctx, session.u, state.pending);
    if (!e) return reply.redirect('/portal/', 303);
    return showEnrolment(
      portal,
      request,
      reply,
      e,
      {
        title: state.replaces ? 'Move to a new phone' : 'Add a device',
        action: '/portal/devices/confirm',
        signedIn: session.u,
        error: PROOF_TEXT[result],
      },
      400,
    );
  });
}
