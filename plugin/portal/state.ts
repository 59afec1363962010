import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SelfServiceContext } from '../../src/portal/index.ts';
import type { PortalFaceOptions } from './options.ts';
import { sendPage } from './pages.ts';
import { SealedCookie } from './sealed-cookie.ts';

export interface Session {
  /** The signed-in user, and its createdAt: a user deleted and made again is not signed in. */
  u: string;
  c: number;
  exp: number;
}

/** An invitation link being followed: its id (the hash of the secret). */
export interface EnrolState {
  inv: string;
  exp: number;
}

/** A new device being added by a signed-in user, and the one it replaces. */
export interface NewDeviceState {
  u: string;
  pending: string;
  replaces?: string;
  exp: number;
}

/** A phone being paired online: the token it pairs, since when, until when the QR works. */
export interface PairingState {
  u: string;
  serial: string;
  started: number;
  until: number;
  rescan: boolean;
  exp: number;
}

/** What every route of the face shares. */
export interface Portal {
  options: PortalFaceOptions;
  session: SealedCookie<Session>;
  enrol: SealedCookie<EnrolState>;
  newDevice: SealedCookie<NewDeviceState>;
  pairing: SealedCookie<PairingState>;
  ctx(request: FastifyRequest, actor: string): SelfServiceContext;
  /** Renders a page with the issuer and a fresh CSRF token filled in. */
  page(
    request: FastifyRequest,
    reply: FastifyReply,
    view: string,
    data: { title: string; [k: string]: unknown },
    status?: number,
  ): Promise<FastifyReply>;
  /** The signed-in user (checked against the store), or null. */
  signedIn(request: FastifyRequest): Promise<Session | null>;
}

export function portalState(app: FastifyInstance, options: PortalFaceOptions): Portal {
  const keyring = options.selfService('portal').keyring;
  const secure = options.secureCookies;
  const portal: Portal = {
    options,
    session: new SealedCookie<Session>(keyring, 'tessera_session', 15 * 60_000, secure),
    enrol: new SealedCookie<EnrolState>(keyring, 'tessera_enrol', 60 * 60_000, secure),
    newDevice: new SealedCookie<NewDeviceState>(keyring, 'tessera_newdev', 15 * 60_000, secure),
    pairing: new SealedCookie<PairingState>(keyring, 'tessera_pairing', 15 * 60_000, secure),
    ctx: (request, actor) => options.selfService(actor, request.ip),
    async page(_request, reply, view, data, status) {
      const settings = await options.selfService('portal').settings();
      const csrf = await reply.generateCsrf();
      return sendPage(reply, view, { ...data, issuer: settings.issuer, csrf }, status);
    },
    async signedIn(request) {
      const s = portal.session.read(request);
      if (!s) return null;
      const user = await options.selfService('portal').store.getUser(s.u);
      return user && user.createdAt === s.c && user.enabled ? s : null;
    },
  };
  void app;
  return portal;
}
