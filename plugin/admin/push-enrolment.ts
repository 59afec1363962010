import type { FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import { type PublicToken, publicToken } from '../../src/admin/index.ts';
import { TesseraError } from '../../src/model/index.ts';
import { startPairing } from '../../src/push/index.ts';
import type { Store } from '../../src/store/index.ts';
import { adminContext } from './actor.ts';
import type { AdminFaceOptions } from './options.ts';

/**
 * `POST /users/:username/tokens {type: "push"}`: a pending push token and the QR the phone pairs
 * with. The QR's URL is the node's public base (the portal URL's origin and path above /portal/).
 */
export async function pushEnrolment(
  face: AdminFaceOptions,
  request: FastifyRequest,
  username: string,
  body: { secret?: string; counter?: number; description?: string },
) {
  if (body.secret !== undefined || body.counter !== undefined)
    throw new TesseraError(
      'BAD_REQUEST',
      'a push token gets its seed when the phone pairs: no secret or counter',
    );
  const portalUrl = face.selfService?.('admin').portalUrl;
  if (!portalUrl)
    throw new TesseraError('BAD_REQUEST', 'push enrolment needs the public portal URL configured');
  const baseUrl = new URL('../', portalUrl).toString();
  const start = await startPairing(adminContext(face, request), username, {
    baseUrl,
    ...(body.description !== undefined ? { description: body.description } : {}),
  });
  const qrCode = await QRCode.toDataURL(start.pairLink, { errorCorrectionLevel: 'M', margin: 2 });
  return {
    ...publicToken(start.token),
    pairing: {
      pairingToken: start.pairingToken,
      pairUri: start.pairUri,
      pairLink: start.pairLink,
      expiresAt: start.expiresAt,
    },
    qrCode,
  };
}

/** Online devices' last sync (kept apart from the token: any node notes it) joins their token views. */
export async function withDeviceState(store: Store, tokens: PublicToken[]): Promise<PublicToken[]> {
  return Promise.all(
    tokens.map(async (t) => {
      if (t.device?.registration !== 'online') return t;
      const state = await store.push.getDeviceState(t.serial);
      return state ? { ...t, device: { ...t.device, lastSyncAt: state.lastSyncAt } } : t;
    }),
  );
}
