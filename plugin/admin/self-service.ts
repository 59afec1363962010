import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  inviteUser,
  issueTemporaryCode,
  listInvitations,
  revokeInvitations,
  type SelfServiceContext,
} from '../../src/portal/index.ts';
import { ADMIN_KEY, callerActor, described, shownOnce } from '../shared/index.ts';
import type { AdminFaceOptions } from './options.ts';
import { adminErrors, NAMED, WRITE } from './replies.ts';
import { UserParams } from './schemas.ts';

const EpochMs = Type.Integer({ description: 'epoch milliseconds' });
const Email = Type.String({ maxLength: 254, pattern: '^[^@\\s]+@[^@\\s]+$' });

const InviteBody = Type.Object(
  {
    sendTo: Type.Optional(Email),
    ttlHours: Type.Optional(
      Type.Number({
        minimum: 0.0001,
        maximum: 2160,
        description: 'default: TESSERA_INVITATION_TTL_HOURS',
      }),
    ),
  },
  { additionalProperties: false },
);

const InvitationView = Type.Object({
  username: Type.String(),
  status: Type.Union([
    Type.Literal('open'),
    Type.Literal('used'),
    Type.Literal('revoked'),
    Type.Literal('expired'),
  ]),
  createdAt: EpochMs,
  expiresAt: EpochMs,
  createdBy: Type.String(),
  usedAt: Type.Optional(EpochMs),
  revokedAt: Type.Optional(EpochMs),
  sentTo: Type.Optional(Type.String()),
  enrolled: Type.Boolean({ description: 'the user has an active token now' }),
});

const ListQuery = Type.Object(
  { notEnrolled: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])) },
  { additionalProperties: false },
);

const TemporaryBody = Type.Object(
  {
    oneTime: Type.Optional(
      Type.Boolean({
        description: 'true (default): works once; false: any number of times until it expires',
      }),
    ),
    validMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1440, description: 'default 60' })),
    mailTo: Type.Optional(Email),
  },
  { additionalProperties: false },
);

const TemporaryCode = shownOnce(
  described(
    'the temporary code, shown this once (and mailed to mailTo when given)',
    Type.Object({
      code: Type.String({ pattern: '^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$' }),
      expiresAt: EpochMs,
      oneTime: Type.Boolean(),
      mailed: Type.Boolean(),
    }),
  ),
);

/** Invitations to the self-service portal and helpdesk temporary codes. */
export async function selfServiceRoutes(app: FastifyInstance, face: AdminFaceOptions): Promise<void> {
  const make = face.selfService;
  if (!make) return;
  const ctxOf = (request: FastifyRequest): SelfServiceContext => {
    const ctx = make(callerActor(request), request.ip);
    const role = request.caller?.kind === 'admin' ? request.caller.key.role : undefined;
    return role ? { ...ctx, audit: (type, detail) => ctx.audit(type, { ...detail, role }) } : ctx;
  };
  const tags = ['self-service'];

  app.post<{ Params: Static<typeof UserParams>; Body: Static<typeof InviteBody> }>(
    '/users/:username/invitations',
    {
      config: { permission: 'users:write' },
      schema: {
        tags,
        operationId: 'inviteUser',
        description:
          "Mails the user a single-use link to /portal/ (to sendTo, else the user's address) where they enrol an authenticator. Revokes the open invitations the user had. The link is never returned.",
        security: ADMIN_KEY,
        params: UserParams,
        body: InviteBody,
        response: {
          201: described(
            'the invitation (without its link); `mailed` says whether a mail was queued',
            Type.Object({ ...InvitationView.properties, mailed: Type.Boolean() }),
          ),
          ...adminErrors(...NAMED, ...WRITE),
        },
      },
    },
    async (request, reply) => {
      const { view, mailed } = await inviteUser(ctxOf(request), request.params.username, {
        ...(request.body.sendTo ? { sendTo: request.body.sendTo } : {}),
        ...(request.body.ttlHours ? { ttlMs: Math.round(request.body.ttlHours * 3_600_000) } : {}),
      });
      return reply.code(201).send({ ...view, mailed });
    },
  );

  app.delete<{ Params: Static<typeof UserParams> }>(
    '/users/:username/invitations',
    {
      config: { permission: 'users:write' },
      schema: {
        tags,
        operationId: 'revokeInvitations',
        description: "Revokes the user's open invitations: their links stop working at once.",
        security: ADMIN_KEY,
        params: UserParams,
        response: {
          200: described(
            'how many open invitations were revoked',
            Type.Object({ revoked: Type.Integer({ minimum: 0 }) }),
          ),
          ...adminErrors(...NAMED, 409),
        },
      },
    },
    async (request) => ({ revoked: await revokeInvitations(ctxOf(request), request.params.username) }),
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/invitations',
    {
      config: { permission: 'users:read' },
      schema: {
        tags,
        operationId: 'listInvitations',
        description:
          'Every invitation, newest first; `notEnrolled=true` lists only users who have not enrolled yet.',
        security: ADMIN_KEY,
        querystring: ListQuery,
        response: {
          200: described('the invitations', Type.Object({ items: Type.Array(InvitationView) })),
          ...adminErrors(),
        },
      },
    },
    async (request) => ({
      items: await listInvitations(ctxOf(request), { notEnrolled: request.query.notEnrolled === 'true' }),
    }),
  );

  app.post<{ Params: Static<typeof UserParams>; Body: Static<typeof TemporaryBody> }>(
    '/users/:username/temporary-code',
    {
      config: { permission: 'tokens:write' },
      schema: {
        tags,
        operationId: 'issueTemporaryCode',
        description:
          'A code for a user who lost their device: it works like an OTP (over RADIUS, Keycloak, /v1/validate) once or until it expires. Replaces an earlier temporary code.',
        security: ADMIN_KEY,
        params: UserParams,
        body: TemporaryBody,
        response: { 201: TemporaryCode, ...adminErrors(...NAMED, ...WRITE) },
      },
    },
    async (request, reply) => {
      const issued = await issueTemporaryCode(ctxOf(request), request.params.username, {
        oneTime: request.body.oneTime ?? true,
        validMinutes: request.body.validMinutes ?? 60,
        ...(request.body.mailTo ? { mailTo: request.body.mailTo } : {}),
      });
      reply.header('cache-control', 'no-store');
      return reply.code(201).send(issued);
    },
  );
}
