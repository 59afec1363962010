// The RADIUS face: FreeRADIUS rlm_rest (body = 'json') in, the validator's decision out as attributes.
// Deliberately encapsulated: its body parser and error handler must not leak into the other faces.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { AuditSink, Validator } from '../../src/auth/index.ts';
import { TesseraError } from '../../src/model/index.ts';
import {
  type CallerLookup,
  CLIENT_KEY,
  callerClient,
  checkOptions,
  errorBody,
  errorReplies,
  failureDetail,
  forwardedClientIp,
  link,
  loginRouteLogging,
  noContent,
  publicMessage,
  requireCaller,
} from '../shared/index.ts';
import {
  MAX_BODY_BYTES,
  parseAuthBody,
  type RadiusAnswer,
  renderDecision,
  renderReject,
} from './rlm-rest.ts';
import { AccessRequest, ChallengeReply, RejectOrUnauthorized } from './schemas.ts';

export * from './rlm-rest.ts';

export interface RadiusFaceOptions {
  /** Decides each code (src/auth). */
  validator: Pick<Validator, 'validate'>;
  /** Resolves the callers' client keys. */
  callers: CallerLookup;
  /** Records requests the validator never saw (malformed bodies). */
  audit: AuditSink;
  /**
   * Push in `hold` mode (src/push): waits until the push of a challenge is answered (true) or
   * `maxMs` passed (false). Without it every client polls.
   */
  pushHold?: (transactionId: string, maxMs: number) => Promise<boolean>;
}

/** Below the shipped rlm_rest `timeout` (3 s): a longer hold needs a longer module timeout. */
export const DEFAULT_PUSH_HOLD_SECONDS = 2;

/** Reason recorded when the request itself is unusable (the validator never saw it). */
export const MALFORMED_REASON = 'BAD_REQUEST';

function send(reply: FastifyReply, answer: RadiusAnswer): FastifyReply {
  reply.code(answer.status);
  return answer.body ? reply.send(answer.body) : reply.send();
}

function rejectMalformed(audit: AuditSink, request: FastifyRequest, reply: FastifyReply, problem: string) {
  const client = request.caller?.kind === 'client' ? request.caller.client : undefined;
  audit.record({
    time: Date.now(),
    type: 'validate',
    actor: client ? `client:${client.id}` : 'anonymous',
    result: 'reject',
    reason: MALFORMED_REASON,
    detail: { face: 'radius', problem },
  });
  const presentation = client ?? { challengeText: '', rejectDetail: 'generic' as const };
  return send(reply, renderReject({ reason: MALFORMED_REASON, message: problem }, presentation));
}

async function radiusFace(app: FastifyInstance, opts: RadiusFaceOptions): Promise<void> {
  checkOptions('tessera-radius', opts, {
    validator: 'the Validator that decides each code',
    callers: 'the CallerDirectory that resolves client keys',
    audit: 'the audit sink for requests the validator never saw',
  });
  const { validator, callers, audit } = opts;
  // rlm_rest must get a 401 (reject) for any bad body, never Fastify's automatic 400/415
  // (which it maps to "invalid"): take every body raw and judge it in the handler.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES }, (_req, body, done) =>
    done(null, body),
  );

  app.setErrorHandler((err: FastifyError | TesseraError, request, reply) => {
    if (err instanceof TesseraError && err.status < 500) {
      // Caller authentication keeps its meaning: 401 and 403 are both a reject for rlm_rest.
      if (err.status === 401 || err.status === 403)
        return reply.code(err.status).send(errorBody(err.code, err.message));
      return rejectMalformed(audit, request, reply, err.message);
    }
    const status = err instanceof TesseraError ? err.status : (err.statusCode ?? 500);
    if (status < 500) {
      const tooLarge = 'code' in err && err.code === 'FST_ERR_CTP_BODY_TOO_LARGE';
      return rejectMalformed(
        audit,
        request,
        reply,
        tooLarge ? 'the body is too large' : 'the request is malformed',
      );
    }
    // A fault of ours (e.g. the store is down): 5xx, which rlm_rest turns into "fail", a reject.
    // A store failure keeps its code; its reason goes to the log only.
    if (err instanceof TesseraError && err.code === 'STORE_UNAVAILABLE') {
      request.log.error(failureDetail(err), 'radius request failed');
      return reply.code(503).send(errorBody(err.code, publicMessage(err)));
    }
    request.log.error({ err: { type: err.name, message: err.message } }, 'radius request failed');
    return reply.code(503).send(errorBody('INTERNAL', 'the request could not be decided'));
  });

  app.addHook('onRequest', requireCaller(callers, 'client'));

  app.post(
    '/auth',
    {
      ...loginRouteLogging(app),
      schema: {
        tags: ['radius'],
        summary: 'FreeRADIUS rlm_rest authenticate (body = json): 204 accept, 200 challenge, 401 reject',
        operationId: 'radiusAuth',
        security: CLIENT_KEY,
        consumes: ['application/json'],
        body: AccessRequest,
        response: {
          200: ChallengeReply,
          204: noContent('accept'),
          401: RejectOrUnauthorized,
          ...errorReplies(403, 503),
        },
      },
      // Documented, not enforced: parseAuthBody judges the raw body and answers a reject (401).
      validatorCompiler: () => () => true,
      // The second round echoes the State of the Access-Challenge.
      links: {
        200: {
          answerChallenge: link(
            'radiusAuth',
            {},
            {
              'User-Name': '$request.body#/User-Name',
              State: { type: 'octets', value: ['$response.body#/reply:State/value'] },
            },
          ),
        },
      },
    },
    async (request, reply) => {
      const client = callerClient(request);
      const parsed = parseAuthBody(request.body as Buffer | undefined);
      if (!parsed.ok) return rejectMalformed(audit, request, reply, parsed.problem);
      const { user, pass, transactionId, nasIdentifier, nasIpAddress } = parsed.request;
      const sourceIp = forwardedClientIp(request.headers);
      const ask = (tid: string | undefined, p: string) =>
        validator.validate({
          user,
          pass: p,
          client,
          ...(tid !== undefined ? { transactionId: tid } : {}),
          ...(sourceIp ? { sourceIp } : {}),
          ...(nasIdentifier ? { nasIdentifier } : {}),
          ...(nasIpAddress ? { nasIpAddress } : {}),
        });
      let outcome = await ask(transactionId, pass);
      // hold: the first request waits for the tap; still unanswered, it becomes a poll
      const held = outcome.transactionId;
      if (
        opts.pushHold &&
        client.pushMode === 'hold' &&
        outcome.result === 'challenge' &&
        outcome.method === 'push' &&
        held
      ) {
        const holdMs = (client.pushHoldSeconds ?? DEFAULT_PUSH_HOLD_SECONDS) * 1000;
        if (await opts.pushHold(held, holdMs)) outcome = await ask(held, '');
      }
      return send(reply, renderDecision(outcome, client));
    },
  );

  // Optional post-auth hook for sites that call the module there; the validator already audited.
  app.post(
    '/post-auth',
    {
      schema: {
        tags: ['radius'],
        summary: 'FreeRADIUS rlm_rest post-auth (no-op)',
        operationId: 'radiusPostAuth',
        security: CLIENT_KEY,
        response: { 204: noContent('nothing to do'), 401: RejectOrUnauthorized, ...errorReplies(403) },
      },
    },
    async (_request, reply) => reply.code(204).send(),
  );
}

export const radiusPlugin = fp(radiusFace, { name: 'tessera-radius', fastify: '5.x', encapsulate: true });
