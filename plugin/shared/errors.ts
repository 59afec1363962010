import type { FastifyError, FastifyInstance } from 'fastify';
import { type ErrorCode, STORE_UNAVAILABLE_MESSAGE, TesseraError } from '../../src/model/index.ts';

export interface ErrorBody {
  error: { code: string; message: string };
}

export function errorBody(code: ErrorCode | string, message: string): ErrorBody {
  return { error: { code, message } };
}

function fromFastify(err: FastifyError): { status: number; code: ErrorCode; message: string } | null {
  if (err.validation) {
    const first = err.validation[0];
    const where = first ? `${err.validationContext ?? 'body'}${first.instancePath || ''}` : 'request';
    return {
      status: 400,
      code: 'BAD_REQUEST',
      message: `${where} ${first?.message ?? 'is not valid'}`.trim(),
    };
  }
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: 'send application/json' };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'the body is too large' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, code: 'BAD_REQUEST', message: 'the body is not valid JSON' };
    default:
      break;
  }
  if (err instanceof SyntaxError || err.statusCode === 400) {
    return { status: 400, code: 'BAD_REQUEST', message: 'the request is malformed' };
  }
  return null;
}

/**
 * The message a caller may see. A store failure always reads the same, whatever the store put in
 * it: Redis's own words (and anything they might carry) stay in the log.
 */
export function publicMessage(err: TesseraError): string {
  return err.code === 'STORE_UNAVAILABLE' ? STORE_UNAVAILABLE_MESSAGE : err.message;
}

/** What the log gets about a failed request: the code, the message and the reason behind it. */
export function failureDetail(err: TesseraError): Record<string, string> {
  return {
    code: err.code,
    msg: err.message,
    ...(err.cause !== undefined ? { cause: String(err.cause) } : {}),
  };
}

/**
 * Every error leaves as `{error: {code, message}}`. Known errors keep their code; anything else
 * is a 500 whose message says nothing about the input (the log has the stack, not the body).
 * Set in each face's own scope, so a face registered alone in a host app answers the same way.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof TesseraError) {
      if (err.status >= 500) request.log.error(failureDetail(err), 'request failed');
      // The store comes back (a failover takes seconds): say when to try again.
      if (err.code === 'STORE_UNAVAILABLE') reply.header('retry-after', '1');
      return reply.code(err.status).send(errorBody(err.code, publicMessage(err)));
    }
    const known = fromFastify(err);
    if (known) return reply.code(known.status).send(errorBody(known.code, known.message));
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send(errorBody('BAD_REQUEST', 'the request is malformed'));
    }
    request.log.error(
      { err: { type: err.name, message: err.message, stack: err.stack } },
      'unexpected error',
    );
    return reply.code(500).send(errorBody('INTERNAL', 'internal error'));
  });
}

/** The root app's error replies: the handler above, and a 404 in the same shape. */
export function installErrorHandling(app: FastifyInstance): void {
  installErrorHandler(app);
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(errorBody('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`));
  });
}
