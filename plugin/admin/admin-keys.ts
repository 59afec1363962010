import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import {
  createAdminKey,
  listAdminKeys,
  parseExpiry,
  publicAdminKey,
  revokeAdminKey,
} from '../../src/admin/index.ts';
import { ADMIN_ROLES, TesseraError } from '../../src/model/index.ts';
import { ADMIN_KEY, described, link, noContent, shownOnce } from '../shared/index.ts';
import { adminContext } from './actor.ts';
import type { AdminFaceOptions } from './options.ts';
import { adminErrors, NAMED, WRITE } from './replies.ts';
import { KeyId, Name } from './schemas.ts';

const Role = Type.Union(ADMIN_ROLES.map((r) => Type.Literal(r)));
/** A date (midnight UTC) or an ISO 8601 time with its zone; see parseExpiry. */
const Expiry = Type.String({
  maxLength: 29,
  pattern: '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,3})?)?(Z|[+-]\\d{2}:\\d{2}))?$',
  description: 'when the key stops working: 2027-01-31 (midnight UTC) or 2027-01-31T18:00:00Z',
});
const KeyBody = Type.Object(
  { name: Name, role: Role, expiresAt: Type.Optional(Expiry) },
  { additionalProperties: false },
);
const KeyParams = Type.Object({ id: KeyId });

/** No secret and no hash in any answer: publicAdminKey (src/admin) names every field it shows. */
const PublicKey = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: Role,
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
  expired: Type.Boolean(),
});
const CreatedKey = Type.Composite([
  PublicKey,
  Type.Object({ apiKey: Type.String({ description: 'the whole key, shown this once' }) }),
]);

export async function adminKeyRoutes(app: FastifyInstance, face: AdminFaceOptions): Promise<void> {
  const tags = ['admin keys'];
  app.post<{ Body: Static<typeof KeyBody> }>(
    '/admin-keys',
    {
      config: { permission: 'admin-keys:write' },
      schema: {
        tags,
        operationId: 'createAdminKey',
        security: ADMIN_KEY,
        body: KeyBody,
        response: {
          201: shownOnce(described('the admin key, its secret shown this once', CreatedKey)),
          ...adminErrors(...WRITE),
        },
      },
      links: { 201: { revokeAdminKey: link('revokeAdminKey', { id: '$response.body#/id' }) } },
    },
    async (request, reply) => {
      const { name, role, expiresAt: expiry } = request.body;
      const expiresAt = expiry === undefined ? undefined : parseExpiry(expiry);
      if (expiresAt === null) throw new TesseraError('BAD_REQUEST', 'body/expiresAt is not a valid date');
      const { key, apiKey } = await createAdminKey(adminContext(face, request), {
        name,
        role,
        ...(expiresAt !== undefined ? { expiresAt } : {}),
      });
      reply.header('cache-control', 'no-store');
      return reply.code(201).send({ ...publicAdminKey(key), apiKey });
    },
  );
  app.get(
    '/admin-keys',
    {
      config: { permission: 'admin-keys:read' },
      schema: {
        tags,
        operationId: 'listAdminKeys',
        security: ADMIN_KEY,
        response: { 200: described('every admin key (no secrets)', Type.Array(PublicKey)), ...adminErrors() },
      },
    },
    async (request) => listAdminKeys(adminContext(face, request)),
  );
  app.delete<{ Params: Static<typeof KeyParams> }>(
    '/admin-keys/:id',
    {
      config: { permission: 'admin-keys:write' },
      schema: {
        tags,
        operationId: 'revokeAdminKey',
        description: 'The last usable superadmin key cannot be revoked (409).',
        security: ADMIN_KEY,
        params: KeyParams,
        response: {
          204: noContent('revoked: the key stops working on every node'),
          ...adminErrors(...NAMED, ...WRITE),
        },
      },
    },
    async (request, reply) => {
      await revokeAdminKey(adminContext(face, request), request.params.id);
      return reply.code(204).send();
    },
  );
}
