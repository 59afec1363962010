// The JSON validate face for Keycloak and any HTTP caller: POST /v1/validate.
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Validator } from '../../src/auth/index.ts';
import {
  type CallerLookup,
  CLIENT_KEY,
  callerClient,
  checkOptions,
  errorReplies,
  forwardedClientIp,
  installErrorHandler,
  jsonBodiesOnly,
  link,
  loginRouteLogging,
  requireCaller,
} from '../shared/index.ts';

export interface ValidateFaceOptions {
  /** Decides each code (src/auth). */
  validator: Pick<Validator, 'validate'>;
  /** Resolves the callers' client keys. */
  callers: CallerLookup;
}

const ValidateBody = Type.Object(
  {
    user: Type.String({ minLength: 1, maxLength: 256 }),
    pass: Type.Optional(Type.String({ maxLength: 256 })),
    transactionId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  },
  {
    additionalProperties: false,
    examples: [
      { user: 'alice', pass: '' },
      { user: 'alice', pass: '123456' },
    ],
  },
);

const ValidateAnswer = Type.Object(
  {
    result: Type.Union([Type.Literal('accept'), Type.Literal('reject'), Type.Literal('challenge')]),
    reason: Type.Optional(
      Type.String({
        description:
          'stable code: OTP_INVALID, OTP_REUSED, USER_LOCKED, ...; a malformed YubiKey OTP: YUBIKEY_BAD_LENGTH, YUBIKEY_BAD_MODHEX, YUBIKEY_UNKNOWN, YUBIKEY_CRC',
      }),
    ),
    message: Type.Optional(Type.String()),
    transactionId: Type.Optional(
      Type.String({ description: 'with a challenge: send it back with the code' }),
    ),
    method: Type.Optional(
      Type.String({
        description:
          'with a challenge bound to one token: its method (totp, hotp, email, sms, yubikey, push). A push is answered by the same call with an empty pass until the phone approves',
      }),
    ),
    methods: Type.Optional(
      Type.Array(
        Type.Object({
          index: Type.Integer({ minimum: 1, description: 'the number that picks it, sent as `pass`' }),
          type: Type.String({ description: 'the method: totp, hotp, email, sms, yubikey, push' }),
          label: Type.String({ description: 'its name for the user (destinations masked)' }),
        }),
        {
          description:
            'with a challenge that offers a choice: the menu. Answering with an index starts that method in a new challenge; a code answers at once',
        },
      ),
    ),
  },
  { description: 'the decision (a reject is a 200 too: the call itself worked)' },
);

/** The end user's address: what the relying system forwards, else the connection's. */
function endUserIp(request: FastifyRequest): string {
  return forwardedClientIp(request.headers) ?? request.ip;
}

async function validateFace(app: FastifyInstance, opts: ValidateFaceOptions): Promise<void> {
  checkOptions('tessera-validate', opts, {
    validator: 'the Validator that decides each code',
    callers: 'the CallerDirectory that resolves client keys',
  });
  const { validator, callers } = opts;
  installErrorHandler(app);
  jsonBodiesOnly(app);
  app.addHook('onRequest', requireCaller(callers, 'client'));
  app.post<{ Body: Static<typeof ValidateBody> }>(
    '/validate',
    {
      ...loginRouteLogging(app),
      schema: {
        tags: ['validate'],
        summary: 'Check a one-time code, or start / answer a challenge',
        operationId: 'validate',
        security: CLIENT_KEY,
        body: ValidateBody,
        response: { 200: ValidateAnswer, ...errorReplies(400, 401, 403, 413, 415, 503) },
      },
      // A challenge is answered by the same call, with its transaction id and the code.
      links: {
        200: {
          answerChallenge: link(
            'validate',
            {},
            { user: '$request.body#/user', transactionId: '$response.body#/transactionId' },
          ),
        },
      },
    },
    async (request) => {
      const body = request.body;
      const outcome = await validator.validate({
        user: body.user,
        client: callerClient(request),
        sourceIp: endUserIp(request),
        ...(body.pass !== undefined ? { pass: body.pass } : {}),
        ...(body.transactionId !== undefined ? { transactionId: body.transactionId } : {}),
      });
      return {
        result: outcome.result,
        reason: outcome.reason,
        ...(outcome.message ? { message: outcome.message } : {}),
        ...(outcome.transactionId ? { transactionId: outcome.transactionId } : {}),
        ...(outcome.result === 'challenge' && outcome.method ? { method: outcome.method } : {}),
        ...(outcome.methods ? { methods: outcome.methods } : {}),
      };
    },
  );
}

/** Encapsulated: its caller hook and error handler stay inside its own routes. */
export const validatePlugin = fp(validateFace, {
  name: 'tessera-validate',
  fastify: '5.x',
  encapsulate: true,
});
