// The console's YubiKey enrolment: the values the personalisation tool shows, typed or pasted.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { enrolYubikey } from '../../../src/admin/index.ts';
import { requireCanonicalUsername, TesseraError } from '../../../src/model/index.ts';
import { consoleContext } from '../actor.ts';
import { echo, parseForm } from '../forms.ts';
import type { UiFaceOptions } from '../options.ts';
import { done, page } from '../render.ts';

const YubikeyForm = Type.Object(
  {
    publicId: Type.String({
      pattern: '^\\s*([cbdefghijklnrtuvCBDEFGHIJKLNRTUV]\\s*){2,32}$',
      message: 'ModHex (the letters cbdefghijklnrtuv), 2 to 32 characters.',
    }),
    privateId: Type.String({ pattern: '^\\s*([0-9a-fA-F]\\s*){12}$', message: '12 hex characters.' }),
    aesKey: Type.String({ pattern: '^\\s*([0-9a-fA-F]\\s*){32}$', message: '32 hex characters.' }),
    description: Type.Optional(Type.String({ maxLength: 128, message: 'At most 128 characters.' })),
  },
  { additionalProperties: false },
);

async function existingUser(face: UiFaceOptions, name: string): Promise<string> {
  const username = requireCanonicalUsername(name);
  if (!(await face.store.getUser(username)))
    throw new TesseraError('NOT_FOUND', `user "${username}" does not exist`);
  return username;
}

export async function yubikeyRoutes(app: FastifyInstance, face: UiFaceOptions): Promise<void> {
  app.get<{ Params: { username: string } }>(
    '/users/:username/tokens/yubikey',
    { config: { permission: 'tokens:write' } },
    async (request, reply) => {
      const username = await existingUser(face, request.params.username);
      return page(request, reply, 'yubikey-new', `Enrol a YubiKey for ${username}`, { username });
    },
  );

  app.post<{ Params: { username: string } }>(
    '/users/:username/tokens/yubikey',
    { config: { permission: 'tokens:write' } },
    async (request, reply) => {
      const username = await existingUser(face, request.params.username);
      const form = parseForm(YubikeyForm, request.body);
      // The secrets are never echoed back into the page, only the public id and the description.
      const again = (errors: Record<string, string>) =>
        page(request, reply.code(400), 'yubikey-new', `Enrol a YubiKey for ${username}`, {
          username,
          errors,
          values: echo(request.body, ['privateId', 'aesKey']),
        });
      if (!form.ok) return again(form.errors);
      const f = form.value;
      try {
        const token = await enrolYubikey(consoleContext(face, request), username, {
          publicId: f.publicId,
          privateId: f.privateId,
          aesKey: f.aesKey,
          ...(f.description ? { description: f.description } : {}),
        });
        return done(
          request,
          reply,
          `/ui/users/${encodeURIComponent(username)}`,
          `YubiKey ${token.serial} enrolled.`,
        );
      } catch (err) {
        if (err instanceof TesseraError && (err.code === 'WEAK_SECRET' || err.code === 'CONFLICT'))
          return again({ [err.code === 'CONFLICT' ? 'publicId' : 'aesKey']: err.message });
        throw err;
      }
    },
  );
}
