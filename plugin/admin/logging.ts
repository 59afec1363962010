import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { loadSettings, updateLogging } from '../../src/admin/index.ts';
import { ADMIN_KEY, described } from '../shared/index.ts';
import { adminContext } from './actor.ts';
import type { AdminFaceOptions } from './options.ts';
import { adminErrors, WRITE } from './replies.ts';

const Level = Type.Union(
  ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
  { description: 'the node log level' },
);
const Stream = Type.Union([Type.Literal('auth'), Type.Literal('admin'), Type.Literal('event')]);
const Streams = Type.Array(Stream, { uniqueItems: true, maxItems: 3 });
const Nullable = <T extends ReturnType<typeof Type.Union> | ReturnType<typeof Type.Array>>(
  t: T,
  what: string,
) => Type.Union([t, Type.Null()], { description: `${what}; null: back to each node's own configuration` });

const LoggingPatch = Type.Object(
  {
    level: Type.Optional(Nullable(Level, 'the log level on every node')),
    syslog: Type.Optional(Nullable(Streams, 'the streams the syslog output sends ([]: none)')),
    jsonl: Type.Optional(Nullable(Streams, 'the streams the JSON lines output sends ([]: none)')),
  },
  { additionalProperties: false, minProperties: 1 },
);

const LoggingView = Type.Object({
  level: Level,
  outputs: Type.Array(
    Type.Object({
      name: Type.Union([Type.Literal('syslog'), Type.Literal('jsonl')]),
      target: Type.String({ description: "where it sends, from this node's configuration" }),
      streams: Type.Array(Stream),
    }),
  ),
  switched: Type.Object(
    {
      level: Type.Optional(Level),
      syslog: Type.Optional(Type.Array(Stream)),
      jsonl: Type.Optional(Type.Array(Stream)),
    },
    { description: 'what an admin switched at run time, over every node' },
  ),
});

export async function loggingRoutes(app: FastifyInstance, face: AdminFaceOptions): Promise<void> {
  const tags = ['settings'];
  const view = async () => ({
    ...face.logging.state(),
    switched: (await loadSettings(face.store)).logging ?? {},
  });
  app.get(
    '/logging',
    {
      config: { permission: 'settings:read' },
      schema: {
        tags,
        summary: "This node's log level and audit outputs (syslog, JSON lines) with the streams each sends",
        operationId: 'getLogging',
        security: ADMIN_KEY,
        response: { 200: described('the logging this node applies now', LoggingView), ...adminErrors() },
      },
    },
    view,
  );
  app.patch<{ Body: Static<typeof LoggingPatch> }>(
    '/logging',
    {
      config: { permission: 'settings:write' },
      schema: {
        tags,
        summary:
          'Switches the log level and the streams each audit output sends, on every node and without a restart (audited)',
        operationId: 'updateLogging',
        security: ADMIN_KEY,
        body: LoggingPatch,
        response: {
          200: described('the logging, changed (other nodes follow within seconds)', LoggingView),
          ...adminErrors(...WRITE),
        },
      },
    },
    async (request) => {
      await updateLogging(adminContext(face, request), request.body as Parameters<typeof updateLogging>[1]);
      await face.logging.refresh();
      return view();
    },
  );
}
