import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import QRCode from 'qrcode';
import {
  deleteToken,
  enrolCodeToken,
  enrolToken,
  enrolYubikey,
  publicToken,
  resyncToken,
  updateToken,
} from '../../src/admin/index.ts';
import { requireCanonicalUsername, TesseraError } from '../../src/model/index.ts';
import { withDeviceState } from '../../src/push/index.ts';
import { ADMIN_KEY, described, link, noContent, shownOnce } from '../shared/index.ts';
import { adminContext } from './actor.ts';
import type { AdminFaceOptions } from './options.ts';
import { pushEnrolment } from './push-enrolment.ts';
import {
  adminErrors,
  CodeEnrolment,
  Enrolment,
  NAMED,
  PushEnrolment,
  TokenList,
  TokenView,
  WRITE,
  YubikeyEnrolment,
} from './replies.ts';
import { Base32Secret, Serial, TokenParams, UserParams } from './schemas.ts';
import { YubikeyBody } from './yubikey-schemas.ts';

const OtpTokenBody = Type.Object(
  {
    type: Type.Union([Type.Literal('totp'), Type.Literal('hotp'), Type.Literal('push')], {
      description: 'push: a pending token and a pairing QR for the phone (the other fields do not apply)',
    }),
    secret: Type.Optional(Base32Secret),
    algorithm: Type.Optional(
      Type.Union([Type.Literal('SHA1'), Type.Literal('SHA256'), Type.Literal('SHA512')]),
    ),
    digits: Type.Optional(Type.Union([Type.Literal(6), Type.Literal(8)])),
    period: Type.Optional(Type.Union([Type.Literal(30), Type.Literal(60)])),
    counter: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 40 })),
    description: Type.Optional(Type.String({ maxLength: 256 })),
    isDefault: Type.Optional(Type.Boolean()),
    serial: Type.Optional(Serial),
  },
  { additionalProperties: false },
);

/** Mail and SMS tokens: codes go to `destination`, or to the user's own email / phone when absent. */
const CodeTokenBody = Type.Object(
  {
    type: Type.Union([Type.Literal('email'), Type.Literal('sms')]),
    destination: Type.Optional(
      Type.String({ minLength: 3, maxLength: 254, pattern: '^([^@\\s]+@[^@\\s]+|[+0-9 ()-]+)$' }),
    ),
    description: Type.Optional(Type.String({ maxLength: 256 })),
    isDefault: Type.Optional(Type.Boolean()),
    serial: Type.Optional(Serial),
  },
  { additionalProperties: false },
);

const TokenBody = Type.Union([OtpTokenBody, CodeTokenBody]);

function isCodeToken(body: Static<typeof TokenBody>): body is Static<typeof CodeTokenBody> {
  return body.type === 'email' || body.type === 'sms';
}

const TokenPatch = Type.Object(
  {
    status: Type.Optional(
      Type.Union([
        Type.Literal('active'),
        Type.Literal('disabled'),
        Type.Literal('locked'),
        Type.Literal('pending'),
      ]),
    ),
    description: Type.Optional(Type.String({ maxLength: 256 })),
    isDefault: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);

/** A device's code (6 or 8 digits), or a YubiKey OTP (ModHex: public id and 32-character token). */
const Code = Type.Union([
  Type.String({ minLength: 6, maxLength: 8, pattern: '^[0-9]+$' }),
  Type.String({ minLength: 34, maxLength: 64, pattern: '^[cbdefghijklnrtuvCBDEFGHIJKLNRTUV]+$' }),
]);
const ResyncBody = Type.Object({ code1: Code, code2: Code }, { additionalProperties: false });

/** Where an enrolled token leads: its changes, switches, resync and deletion. */
const tokenLinks = Object.fromEntries(
  ['updateToken', 'disableToken', 'enableToken', 'resyncToken', 'deleteToken', 'getUser'].map((op) => [
    op,
    link(op, {
      username: '$response.body#/username',
      ...(op === 'getUser' ? {} : { serial: '$response.body#/serial' }),
    }),
  ]),
);

export async function tokenRoutes(app: FastifyInstance, face: AdminFaceOptions): Promise<void> {
  const tags = ['tokens'];

  const EnrolBody = Type.Union([TokenBody, YubikeyBody]);
  app.post<{ Params: Static<typeof UserParams>; Body: Static<typeof EnrolBody> }>(
    '/users/:username/tokens',
    {
      config: { permission: 'tokens:write' },
      schema: {
        tags,
        operationId: 'enrolToken',
        security: ADMIN_KEY,
        params: UserParams,
        body: EnrolBody,
        response: {
          201: shownOnce(
            described(
              'TOTP/HOTP: the token with its secret inside otpauthUri and the QR code, shown this once; a YubiKey; a pending push token with its pairing QR; mail/SMS: the token',
              Type.Union([Enrolment, YubikeyEnrolment, PushEnrolment, CodeEnrolment]),
            ),
          ),
          ...adminErrors(...NAMED, ...WRITE),
        },
      },
      links: { 201: tokenLinks },
    },
    async (request, reply) => {
      const body = request.body;
      reply.header('cache-control', 'no-store');
      if (body.type === 'yubikey') {
        const key = await enrolYubikey(adminContext(face, request), request.params.username, body);
        return reply.code(201).send(publicToken(key));
      }
      if (body.type === 'push')
        return reply.code(201).send(await pushEnrolment(face, request, request.params.username, body));
      if (isCodeToken(body)) {
        const token = await enrolCodeToken(adminContext(face, request), request.params.username, body);
        return reply.code(201).send(publicToken(token));
      }
      const { token, otpauthUri } = await enrolToken(adminContext(face, request), request.params.username, {
        ...body,
        type: body.type,
      });
      const qrCode = await QRCode.toDataURL(otpauthUri, { errorCorrectionLevel: 'M', margin: 2 });
      reply.header('cache-control', 'no-store');
      return reply.code(201).send({ ...publicToken(token), otpauthUri, qrCode });
    },
  );

  app.get<{ Params: Static<typeof UserParams> }>(
    '/users/:username/tokens',
    {
      config: { permission: 'tokens:read' },
      schema: {
        tags,
        operationId: 'listTokens',
        security: ADMIN_KEY,
        params: UserParams,
        response: { 200: TokenList, ...adminErrors(...NAMED) },
      },
    },
    async (request) => {
      const username = requireCanonicalUsername(request.params.username);
      if (!(await face.store.getUser(username))) {
        throw new TesseraError('NOT_FOUND', `user "${username}" does not exist`);
      }
      return {
        items: await withDeviceState(face.store, (await face.store.listTokens(username)).map(publicToken)),
      };
    },
  );

  app.patch<{ Params: Static<typeof TokenParams>; Body: Static<typeof TokenPatch> }>(
    '/users/:username/tokens/:serial',
    {
      config: { permission: 'tokens:write' },
      schema: {
        tags,
        operationId: 'updateToken',
        security: ADMIN_KEY,
        params: TokenParams,
        body: TokenPatch,
        response: { 200: described('the token, changed', TokenView), ...adminErrors(...NAMED, ...WRITE) },
      },
    },
    async (request) =>
      publicToken(
        await updateToken(
          adminContext(face, request),
          request.params.username,
          request.params.serial,
          request.body,
        ),
      ),
  );

  for (const [action, status] of [
    ['disable', 'disabled'],
    ['enable', 'active'],
  ] as const) {
    app.post<{ Params: Static<typeof TokenParams> }>(
      `/users/:username/tokens/:serial/${action}`,
      {
        config: { permission: 'tokens:write' },
        schema: {
          tags,
          operationId: `${action}Token`,
          security: ADMIN_KEY,
          params: TokenParams,
          response: {
            200: described(`the token, ${action}d`, TokenView),
            ...adminErrors(...NAMED, ...WRITE),
          },
        },
      },
      async (request) =>
        publicToken(
          await updateToken(adminContext(face, request), request.params.username, request.params.serial, {
            status,
          }),
        ),
    );
  }

  app.delete<{ Params: Static<typeof TokenParams> }>(
    '/users/:username/tokens/:serial',
    {
      config: { permission: 'tokens:write' },
      schema: {
        tags,
        operationId: 'deleteToken',
        security: ADMIN_KEY,
        params: TokenParams,
        response: { 204: noContent('deleted'), ...adminErrors(...NAMED, ...WRITE) },
      },
    },
    async (request, reply) => {
      await deleteToken(adminContext(face, request), request.params.username, request.params.serial);
      return reply.code(204).send();
    },
  );

  app.post<{ Params: Static<typeof TokenParams>; Body: Static<typeof ResyncBody> }>(
    '/users/:username/tokens/:serial/resync',
    {
      config: { permission: 'tokens:write' },
      schema: {
        tags,
        operationId: 'resyncToken',
        description:
          'Two consecutive codes find the counter (HOTP) or drift (TOTP) again; 400 RESYNC_FAILED when they do not.',
        security: ADMIN_KEY,
        params: TokenParams,
        body: ResyncBody,
        response: {
          200: described('the token, found again', TokenView),
          ...adminErrors(...NAMED, ...WRITE),
        },
      },
    },
    async (request) =>
      publicToken(
        await resyncToken(
          adminContext(face, request),
          request.params.username,
          request.params.serial,
          request.body.code1,
          request.body.code2,
        ),
      ),
  );
}
