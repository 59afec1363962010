import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TesseraError } from '../../src/model/index.ts';
import {
  abandonPending,
  humanTime,
  type PairingProgress,
  pairingProgress,
  startOnlineDevice,
} from '../../src/portal/index.ts';
import { portalQr } from './routes-enrol.ts';
import type { Portal } from './state.ts';

const PROGRESS_TEXT: Record<PairingProgress, string> = {
  waiting: 'Waiting for the phone to scan…',
  paired: 'Paired: the phone now gets your sign-in requests.',
  expired: 'This pairing code has expired or was replaced. Start again from your devices.',
};

/**
 * Online devices: "Add phone (online)" and "Rescan device" show a pairing QR and wait for the phone
 * (the page asks /devices/pairing/status every few seconds: a script of our own, CSP-safe).
 */
export async function onlineRoutes(app: FastifyInstance, portal: Portal): Promise<void> {
  const guard = { preHandler: app.csrfProtection };

  const start = async (request: FastifyRequest, reply: FastifyReply, serial?: string) => {
    const session = await portal.signedIn(request);
    if (!session) return reply.redirect('/portal/', 303);
    const ctx = portal.ctx(request, `portal:${session.u}`);
    // a pairing started earlier in this browser and not finished stops working
    const old = portal.pairing.read(request);
    if (old && old.u === session.u) {
      await ctx.store.push.dropPairings(old.serial);
      if (!old.rescan) await abandonPending(ctx, session.u, old.serial);
    }
    let started: Awaited<ReturnType<typeof startOnlineDevice>>;
    const startedAt = Date.now();
    try {
      started = await startOnlineDevice(ctx, session.u, serial);
    } catch (err) {
      if (err instanceof TesseraError && (err.code === 'NOT_FOUND' || err.code === 'BAD_REQUEST'))
        return reply.redirect(`/portal/?refused=${err.code === 'NOT_FOUND' ? 'device' : 'online'}`, 303);
      throw err;
    }
    portal.pairing.write(reply, {
      u: session.u,
      serial: started.token.serial,
      started: startedAt,
      until: started.expiresAt,
      rescan: serial !== undefined,
    });
    return portal.page(request, reply, 'pair', {
      title: serial
        ? `Move ${started.token.description ?? serial} to the authenticator app`
        : 'Add phone (online)',
      signedIn: session.u,
      rescan: serial !== undefined,
      qr: await portalQr(started.pairLink, 'QR code to scan with your phone’s camera'),
      pairLink: started.pairLink,
      pairUri: started.pairUri,
      until: humanTime(started.expiresAt),
      waiting: PROGRESS_TEXT.waiting,
    });
  };

  app.post('/devices/online', guard, (request, reply) => start(request, reply));
  app.post<{ Params: { serial: string } }>('/devices/:serial/rescan', guard, (request, reply) =>
    start(request, reply, request.params.serial),
  );

  app.get('/devices/pairing/status', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const session = await portal.signedIn(request);
    const pairing = portal.pairing.read(request);
    if (!session || !pairing || pairing.u !== session.u)
      return reply.code(404).send({ state: 'expired', text: PROGRESS_TEXT.expired });
    const ctx = portal.ctx(request, `portal:${session.u}`);
    const progress = await pairingProgress(ctx, session.u, pairing.serial, pairing.started, pairing.until);
    const text =
      progress.state === 'paired' && progress.name
        ? `Paired with ${progress.name}: the phone now gets your sign-in requests.`
        : PROGRESS_TEXT[progress.state];
    if (progress.state !== 'waiting') portal.pairing.clear(reply);
    return reply.send({ state: progress.state, text });
  });
}
