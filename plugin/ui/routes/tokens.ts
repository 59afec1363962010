import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  deleteToken,
  enrolCodeToken,
  enrolToken,
  resyncToken,
  updateToken,
} from '../../../src/admin/index.ts';
import { requireCanonicalUsername, TesseraError } from '../../../src/model/index.ts';
import { issueTemporaryCode } from '../../../src/portal/index.ts';
import { qrSvg } from '../../shared/index.ts';
import { consoleContext, consoleSelfService } from '../actor.ts';
import { echo, type FieldErrors, parseForm } from '../forms.ts';
import type { UiFaceOptions } from '../options.ts';
import { done, may, page } from '../render.ts';
import { userPage } from './users.ts';

const EnrolForm = Type.Object(
  {
    type: Type.Union([Type.Literal('totp'), Type.Literal('hotp')], { message: 'Choose TOTP or HOTP.' }),
    algorithm: Type.Union([Type.Literal('SHA1'), Type.Literal('SHA256'), Type.Literal('SHA512')], {
      message: 'Choose SHA1, SHA256 or SHA512.',
    }),
    digits: Type.Union([Type.Literal('6'), Type.Literal('8')], { message: 'Choose 6 or 8 digits.' }),
    period: Type.Union([Type.Literal('30'), Type.Literal('60')], { message: 'Choose 30 or 60 seconds.' }),
    description: Type.Optional(Type.String({ maxLength: 128, message: 'At most 128 characters.' })),
  },
  { additionalProperties: false },
);
const CodeTokenForm = Type.Object(
  {
    type: Type.Union([Type.Literal('email'), Type.Literal('sms')], { message: 'Choose mail or SMS.' }),
    destination: Type.Optional(
      Type.String({
        maxLength: 254,
        pattern: '^(|[^@\\s]+@[^@\\s]+|[+0-9 ()-]+)$',
        message: 'Enter a mail address or a phone number, or leave it empty.',
      }),
    ),
    description: Type.Optional(Type.String({ maxLength: 128, message: 'At most 128 characters.' })),
  },
  { additionalProperties: false },
);
const ResyncForm = Type.Object(
  {
    code1: Type.String({
      pattern: '^[0-9]{6,8}$',
      message: 'Enter two consecutive codes (6 or 8 digits each).',
    }),
    code2: Type.String({
      pattern: '^[0-9]{6,8}$',
      message: 'Enter two consecutive codes (6 or 8 digits each).',
    }),
  },
  { additionalProperties: false },
);

const TemporaryCodeForm = Type.Object(
  {
    use: Type.Union([Type.Literal('once'), Type.Literal('until-expiry')], {
      message: 'Choose once or until it expires.',
    }),
    validMinutes: Type.String({
      pattern: '^(?:[1-9][0-9]{0,2}|1[0-3][0-9]{2}|14[0-3][0-9]|1440)$',
      message: 'Enter whole minutes from 1 to 1440.',
    }),
  },
  { additionalProperties: false },
);

type Params = { username: string; serial: string };

export async function tokenRoutes(app: FastifyInstance, face: UiFaceOptions): Promise<void> {
  const write = { config: { permission: 'tokens:write' as const } };

  app.get<{ Params: { username: string } }>('/users/:username/tokens/new', write, async (request, reply) =>
    enrolPage(request, reply, face, request.params.username, {}),
  );

  app.post<{ Params: { username: string } }>('/users/:username/tokens', write, async (request, reply) => {
    const username = requireCanonicalUsername(request.params.username);
    const form = parseForm(EnrolForm, request.body);
    if (!form.ok)
      return enrolPage(request, reply.code(400), face, username, {
        errors: form.errors,
        values: echo(request.body),
      });
    const f = form.value;
    const { token, otpauthUri } = await enrolToken(consoleContext(face, request), username, {
      type: f.type,
      algorithm: f.algorithm,
      digits: Number(f.digits) as 6 | 8,
      period: Number(f.period) as 30 | 60,
      ...(f.description ? { description: f.description } : {}),
    });
    // The seed is on this page once (as a QR code and a link), never stored in a form or a cookie.
    reply.header('Cache-Control', 'no-store');
    return page(request, reply, 'token-created', `Token ${token.serial} enrolled`, {
      username,
      token,
      qr: await qrSvg(otpauthUri, `QR code of token ${token.serial} for ${username}`, { className: 'qr' }),
      uri: otpauthUri,
    });
  });

  app.post<{ Params: { username: string } }>(
    '/users/:username/tokens/code',
    write,
    async (request, reply) => {
      const username = requireCanonicalUsername(request.params.username);
      const form = parseForm(CodeTokenForm, request.body);
      const refused = (codeErrors: FieldErrors) =>
        enrolPage(request, reply.code(400), face, username, { codeErrors, codeValues: echo(request.body) });
      if (!form.ok) return refused(form.errors);
      const f = form.value;
      try {
        const token = await enrolCodeToken(consoleContext(face, request), username, {
          type: f.type,
          ...(f.destination ? { destination: f.destination } : {}),
          ...(f.description ? { description: f.description } : {}),
        });
        return done(
          request,
          reply,
          `/ui/users/${encodeURIComponent(username)}`,
          `Token ${token.serial} enrolled.`,
        );
      } catch (err) {
        // no address to send to: said beside the field, like any other form error
        if (err instanceof TesseraError && err.code === 'BAD_REQUEST')
          return refused({ destination: err.message });
        throw err;
      }
    },
  );

  const tokenAction = (path: string, run: (request: FastifyRequest<{ Params: Params }>) => Promise<string>) =>
    app.post<{ Params: Params }>(`/users/:username/tokens/:serial/${path}`, write, async (request, reply) => {
      const username = requireCanonicalUsername(request.params.username);
      const message = await run(request);
      return done(request, reply, `/ui/users/${encodeURIComponent(username)}`, message);
    });
  tokenAction('disable', async (r) => {
    await updateToken(consoleContext(face, r), r.params.username, r.params.serial, { status: 'disabled' });
    return `Token ${r.params.serial} disabled.`;
  });
  tokenAction('enable', async (r) => {
    await updateToken(consoleContext(face, r), r.params.username, r.params.serial, { status: 'active' });
    return `Token ${r.params.serial} enabled.`;
  });
  // A lost device: the token stops working at once but stays on record (serial, history), unlike a delete.
  tokenAction('lost', async (r) => {
    const ctx = consoleContext(face, r);
    const token = await face.store.getToken(r.params.serial);
    const note = `lost ${new Date().toISOString().slice(0, 10)}`;
    const description = token?.description ? `${token.description} (${note})` : note;
    await updateToken(ctx, r.params.username, r.params.serial, {
      status: 'locked',
      description: description.slice(0, 128),
    });
    const hint =
      face.selfService && may(r, 'tokens:write')
        ? ' Until a new device is enrolled, issue a temporary code below.'
        : '';
    return `Token ${r.params.serial} marked lost: it no longer logs in.${hint}`;
  });
  tokenAction('delete', async (r) => {
    await deleteToken(consoleContext(face, r), r.params.username, r.params.serial);
    return `Token ${r.params.serial} deleted.`;
  });

  // The helpdesk case of a lost device: the same operation as POST /v1/admin/users/{username}/temporary-code,
  // audited as temporary-code.issue with the console actor; the code is shown once, never stored plain.
  app.post<{ Params: { username: string } }>(
    '/users/:username/temporary-code',
    write,
    async (request, reply) => {
      const username = requireCanonicalUsername(request.params.username);
      const form = parseForm(TemporaryCodeForm, request.body);
      if (!form.ok)
        return userPage(request, reply.code(400), face, username, {
          errors: form.errors,
          values: echo(request.body),
        });
      const oneTime = form.value.use === 'once';
      const issued = await issueTemporaryCode(consoleSelfService(face, request), username, {
        oneTime,
        validMinutes: Number(form.value.validMinutes),
      });
      const until = new Date(issued.expiresAt).toISOString().replace('T', ' ').slice(0, 16);
      request.consoleSession!.reveal = {
        label: `Temporary code for ${username} (${oneTime ? 'works once' : 'works until it expires'}, until ${until} UTC)`,
        value: issued.code,
      };
      return done(
        request,
        reply,
        `/ui/users/${encodeURIComponent(username)}`,
        'Temporary code issued; an earlier one no longer works.',
      );
    },
  );

  app.post<{ Params: Params }>('/users/:username/tokens/:serial/resync', write, async (request, reply) => {
    const { username, serial } = request.params;
    const field = `resync-${serial}`;
    const form = parseForm(ResyncForm, request.body);
    if (!form.ok)
      return userPage(request, reply.code(400), face, username, {
        errors: { [field]: Object.values(form.errors)[0] },
      });
    try {
      await resyncToken(consoleContext(face, request), username, serial, form.value.code1, form.value.code2);
    } catch (err) {
      if (err instanceof TesseraError && err.status < 500)
        return userPage(request, reply.code(400), face, username, { errors: { [field]: err.message } });
      throw err;
    }
    return done(
      request,
      reply,
      `/ui/users/${encodeURIComponent(requireCanonicalUsername(username))}`,
      `Token ${serial} resynchronised.`,
    );
  });
}

async function enrolPage(
  request: FastifyRequest,
  reply: FastifyReply,
  face: UiFaceOptions,
  name: string,
  data: {
    errors?: FieldErrors;
    values?: Record<string, string>;
    codeErrors?: FieldErrors;
    codeValues?: Record<string, string>;
  },
) {
  const username = requireCanonicalUsername(name);
  if (!(await face.store.getUser(username)))
    throw new TesseraError('NOT_FOUND', `user "${username}" does not exist`);
  return page(request, reply, 'token-new', `Enrol a token for ${username}`, { username, ...data });
}
