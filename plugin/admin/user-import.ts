import { type Static, type TOptional, type TString, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { IMPORT_FIELDS, type ImportField, importUsersCsv } from '../../src/directory/index.ts';
import { ADMIN_KEY, described } from '../shared/index.ts';
import { adminContext } from './actor.ts';
import type { AdminFaceOptions } from './options.ts';
import { adminErrors } from './replies.ts';

/** The CSV travels inside JSON; 1 MiB of text, 10,000 rows per call (the CLI reads larger files). */
export const IMPORT_MAX_CHARS = 1024 * 1024;
export const IMPORT_MAX_ROWS = 10_000;

const Header = Type.String({ minLength: 1, maxLength: 128 });
const fieldProps = Object.fromEntries(IMPORT_FIELDS.map((f) => [f, Type.Optional(Header)])) as Record<
  ImportField,
  TOptional<TString>
>;
const Mapping = Type.Object(fieldProps, {
  additionalProperties: false,
  description: 'field → the header of the column that holds it; unnamed fields are matched by name',
});

const ImportBody = Type.Object(
  {
    csv: Type.String({
      minLength: 0,
      maxLength: IMPORT_MAX_CHARS,
      description:
        'the file: a header row, then one user per row (optionally a hardware token: serial, secret, type, digits, algorithm, period); seeds are sealed on arrival and never returned',
    }),
    dryRun: Type.Optional(Type.Boolean({ description: 'check and report, write nothing' })),
    update: Type.Optional(
      Type.Boolean({ description: 'existing users take the non-empty values (default true)' }),
    ),
    mapping: Type.Optional(Mapping),
  },
  { additionalProperties: false },
);

const columnProps = Object.fromEntries(IMPORT_FIELDS.map((f) => [f, Type.Optional(Type.String())]));
const RowResult = Type.Object({
  line: Type.Integer({ minimum: 1 }),
  username: Type.Optional(Type.String()),
  action: Type.Union([Type.Literal('created'), Type.Literal('updated'), Type.Literal('skipped')]),
  reason: Type.Optional(Type.String()),
  serial: Type.Optional(Type.String()),
});
const ImportReport = Type.Object({
  dryRun: Type.Boolean(),
  columns: Type.Object(columnProps),
  ignoredColumns: Type.Array(Type.String()),
  created: Type.Integer({ minimum: 0 }),
  updated: Type.Integer({ minimum: 0 }),
  skipped: Type.Integer({ minimum: 0 }),
  rows: Type.Array(RowResult),
});

export async function userImportRoutes(app: FastifyInstance, face: AdminFaceOptions): Promise<void> {
  app.post<{ Body: Static<typeof ImportBody> }>(
    '/users/import',
    {
      config: { permission: 'users:import' },
      // JSON escaping can double the CSV's size; anything larger is a 413 before it is parsed
      bodyLimit: 2 * IMPORT_MAX_CHARS + 64 * 1024,
      schema: {
        tags: ['users'],
        operationId: 'importUsers',
        security: ADMIN_KEY,
        body: ImportBody,
        response: {
          200: described(
            'what each row did (created, updated, or skipped with the reason); a dry run writes nothing',
            ImportReport,
          ),
          ...adminErrors(409, 413, 415),
        },
      },
    },
    async (request) => {
      const { csv, dryRun, update, mapping } = request.body;
      return importUsersCsv(adminContext(face, request), csv, {
        ...(dryRun !== undefined ? { dryRun } : {}),
        ...(update !== undefined ? { update } : {}),
        ...(mapping ? { mapping } : {}),
        maxRows: IMPORT_MAX_ROWS,
      });
    },
  );
}
