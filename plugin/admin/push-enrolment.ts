import type { FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import { publicToken } from '../../src/admin/index.ts';
import { TesseraError } from '../../src/model/index.ts';
import { startPairing } from '../../src/push/index.ts';
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
