// POST /v1/admin/tokens/import/yubikey: the YubiKey Personalization Tool's log, imported.
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { importYubikeys } from '../../src/admin/index.ts';
import { ADMIN_KEY, described } from '../shared/index.ts';
import { adminContext } from './actor.ts';
import type { AdminFaceOptions } from './options.ts';
import { adminErrors } from './replies.ts';
import { Username } from './schemas.ts';
import { IMPORT_MAX_CHARS, IMPORT_MAX_ROWS } from './user-import.ts';

const ImportBody = Type.Object(
  {
    csv: Type.String({
      maxLength: IMPORT_MAX_CHARS,
      description:
        'configuration_log.csv as the tool writes it (Traditional or Yubico layout); Yubico OTP and OATH-HOTP rows are imported, seeds sealed on arrival and never returned',
    }),
    dryRun: Type.Optional(Type.Boolean({ description: 'check and report, write nothing' })),
    userColumn: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 64,
        description: '1-based column added to each row with its username',
      }),
    ),
    users: Type.Optional(
      // a plain map (no key pattern): bounded by the body limit
      Type.Unsafe<Record<string, string>>({
        type: 'object',
        additionalProperties: Username,
        description: "the key's serial number, public id (ModHex) or OATH token id → username",
      }),
    ),
  },
  { additionalProperties: false },
);

const ImportReport = Type.Object({
  dryRun: Type.Boolean(),
  created: Type.Integer({ minimum: 0 }),
  skipped: Type.Integer({ minimum: 0 }),
  rows: Type.Array(
    Type.Object({
      line: Type.Integer({ minimum: 1 }),
      action: Type.Union([Type.Literal('created'), Type.Literal('skipped')]),
      kind: Type.Optional(Type.Union([Type.Literal('yubikey'), Type.Literal('hotp')])),
      username: Type.Optional(Type.String()),
      serial: Type.Optional(Type.String()),
      reason: Type.Optional(Type.String()),
    }),
  ),
});

export async function yubikeyImportRoutes(app: FastifyInstance, face: AdminFaceOptions): Promise<void> {
  app.post<{ Body: Static<typeof ImportBody> }>(
    '/tokens/import/yubikey',
    {
      config: { permission: 'users:import' },
      bodyLimit: 2 * IMPORT_MAX_CHARS + 64 * 1024,
      schema: {
        tags: ['tokens'],
        operationId: 'importYubikeys',
        summary: "Import YubiKeys from the personalisation tool's log",
        security: ADMIN_KEY,
        body: ImportBody,
        response: {
          200: described(
            'what each row did (created, or skipped with the reason); a dry run writes nothing',
            ImportReport,
          ),
          ...adminErrors(409, 413, 415),
        },
      },
    },
    async (request) => {
      const { csv, dryRun, userColumn, users } = request.body;
      return importYubikeys(adminContext(face, request), csv, {
        ...(dryRun !== undefined ? { dryRun } : {}),
        ...(userColumn !== undefined ? { userColumn } : {}),
        ...(users ? { users } : {}),
        maxRows: IMPORT_MAX_ROWS,
      });
    },
  );
}
