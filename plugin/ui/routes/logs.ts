import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { CSV_COLUMNS, csvLine } from '../../../src/audit/export.ts';
import { type AuditQuery, searchAudit } from '../../../src/audit/search.ts';
import type { Store } from '../../../src/store/index.ts';
import { echo, parseForm } from '../forms.ts';
import type { UiFaceOptions } from '../options.ts';
import { page } from '../render.ts';

const TIME = '^\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}(:\\d{2})?)?$';
const Filters = Type.Object(
  {
    stream: Type.Optional(
      Type.Union([Type.Literal('auth'), Type.Literal('admin'), Type.Literal('event')], {
        message: 'Choose authentication, admin or node events.',
      }),
    ),
    user: Type.Optional(Type.String({ maxLength: 128, message: 'At most 128 characters.' })),
    result: Type.Optional(
      Type.String({
        maxLength: 32,
        pattern: '^[a-z-]+$',
        message: 'A result such as accept, reject, challenge, ok.',
      }),
    ),
    reason: Type.Optional(
      Type.String({ maxLength: 64, pattern: '^[A-Z_]+$', message: 'A reason code such as OTP_INVALID.' }),
    ),
    from: Type.Optional(
      Type.String({
        pattern: TIME,
        message: 'A date (2026-11-30) or date and time (2026-11-30 14:00), UTC.',
      }),
    ),
    to: Type.Optional(
      Type.String({
        pattern: TIME,
        message: 'A date (2026-11-30) or date and time (2026-11-30 14:00), UTC.',
      }),
    ),
    cursor: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: false },
);

function utc(text: string | undefined, endOfDay: boolean): number | undefined {
  if (!text) return undefined;
  const withTime =
    text.length === 10 ? `${text}T${endOfDay ? '23:59:59.999' : '00:00:00'}` : text.replace(' ', 'T');
  return Date.parse(`${withTime}Z`);
}

function queryOf(v: Record<string, string | undefined>): Omit<AuditQuery, 'limit'> {
  const from = utc(v.from, false);
  const to = utc(v.to, true);
  return {
    ...(v.stream ? { stream: v.stream as AuditQuery['stream'] } : {}),
    ...(v.user ? { user: v.user } : {}),
    ...(v.result ? { result: v.result } : {}),
    ...(v.reason ? { reason: v.reason } : {}),
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    ...(v.cursor ? { cursor: v.cursor } : {}),
  };
}

/** The filtered trail as CSV, a page at a time: a large export never sits in memory. */
async function* csv(store: Store, q: Omit<AuditQuery, 'limit'>): AsyncGenerator<string> {
  yield `${CSV_COLUMNS.join(',')}\r\n`;
  let cursor: string | undefined;
  do {
    const p = await searchAudit(store, { ...q, limit: 1000, ...(cursor ? { cursor } : {}) });
    if (p.items.length) yield p.items.map(csvLine).join('');
    cursor = p.next ?? undefined;
  } while (cursor);
}

export async function logRoutes(app: FastifyInstance, face: UiFaceOptions): Promise<void> {
  const read = { config: { permission: 'audit:read' as const } };
  app.get('/logs', read, async (request, reply) => {
    const form = parseForm(Filters, request.query);
    const filters = echo(request.query);
    if (!form.ok)
      return page(request, reply.code(400), 'logs', 'Logs', {
        errors: form.errors,
        values: filters,
        items: [],
        next: null,
        exportQuery: '',
      });
    const { cursor: _c, ...kept } = filters;
    await face.audit.flush();
    const result = await searchAudit(face.store, { ...queryOf(form.value), limit: 50 });
    return page(request, reply, 'logs', 'Logs', {
      values: filters,
      items: result.items,
      next: result.next ? new URLSearchParams({ ...kept, cursor: result.next }).toString() : null,
      exportQuery: new URLSearchParams(kept).toString(),
    });
  });
  app.get('/logs.csv', read, async (request, reply) => {
    const form = parseForm(Filters, request.query);
    if (!form.ok)
      return page(request, reply.code(400), 'logs', 'Logs', {
        errors: form.errors,
        values: echo(request.query),
        items: [],
        next: null,
        exportQuery: '',
      });
    await face.audit.flush();
    const { cursor: _c, ...q } = queryOf(form.value);
    const name = `tessera-${form.value.stream ?? 'audit'}-${new Date().toISOString().slice(0, 10)}.csv`;
    reply
      .type('text/csv; charset=utf-8')
      .header('Content-Disposition', `attachment; filename="${name}"`)
      .header('Cache-Control', 'no-store');
    return reply.send(Readable.from(csv(face.store, q)));
  });
}
