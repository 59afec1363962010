import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { enablePush } from '../../src/push/index.ts';
import { ADMIN_KEY, callerActor, described } from '../shared/index.ts';
import type { AdminFaceOptions } from './options.ts';
import { adminErrors, WRITE } from './replies.ts';

const EnableBody = Type.Object(
  {
    usernames: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { minItems: 1, maxItems: 1000 }),
    invite: Type.Optional(
      Type.Boolean({
        description: 'mail users without an online device an invitation to pair one (default true)',
      }),
    ),
  },
  { additionalProperties: false },
);

const EnableReply = Type.Object({
  items: Type.Array(
    Type.Object({
      username: Type.String(),
      result: Type.Union(
        ['online', 'invited', 'enabled', 'no-address', 'not-found'].map((r) => Type.Literal(r)),
        { description: 'online: has a paired phone; invited: a pairing invitation was mailed' },
      ),
    }),
  ),
});

/** The bulk action of push: switch it on for many users, inviting those without an online device. */
export async function pushRoutes(app: FastifyInstance, face: AdminFaceOptions): Promise<void> {
  const make = face.selfService;
  if (!make) return;
  app.post<{ Body: Static<typeof EnableBody> }>(
    '/push/enable',
    {
      config: { permission: 'users:write' },
      schema: {
        tags: ['push'],
        operationId: 'enablePush',
        description:
          "Switches the push method on for each user and mails those without an online (paired) device an invitation to the portal. Each user gets its own result; one user's problem does not stop the others.",
        security: ADMIN_KEY,
        body: EnableBody,
        response: { 200: described('what was done for each user', EnableReply), ...adminErrors(...WRITE) },
      },
    },
    async (request) => ({
      items: await enablePush(
        make(callerActor(request), request.ip),
        request.body.usernames,
        request.body.invite ?? true,
      ),
    }),
  );
}
