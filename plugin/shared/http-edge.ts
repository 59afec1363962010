// Errors that happen before a route runs (a URL the router cannot read, a request line or header
// block too large for Node's parser) answer in the contract's `{error: {code, message}}` shape too.
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../../src/model/index.ts';
import { errorBody } from './errors.ts';

interface EdgeError {
  status: number;
  code: ErrorCode;
  message: string;
}

/** Fastify's `frameworkErrors`: the router's own refusals, before any hook or handler. */
export function frameworkErrorReply(err: FastifyError): EdgeError {
  switch (err.code) {
    case 'FST_ERR_BAD_URL':
      return { status: 400, code: 'BAD_URL', message: 'the URL is not valid (bad percent-encoding)' };
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return { status: 414, code: 'URI_TOO_LONG', message: 'a path segment is longer than any name can be' };
    default:
      return { status: 400, code: 'BAD_REQUEST', message: 'the request is malformed' };
  }
}

export function frameworkErrors(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const e = frameworkErrorReply(err);
  reply.code(e.status).send(errorBody(e.code, e.message));
}

/** What Node's HTTP parser refused, as an answer; null when nothing should be written. */
export function clientErrorReply(err: Error & { code?: string }): EdgeError | null {
  switch (err.code) {
    case 'ECONNRESET':
      return null;
    case 'HPE_HEADER_OVERFLOW':
      // The request line counts toward the same limit: a URI too long for it lands here as well.
      return {
        status: 431,
        code: 'HEADERS_TOO_LARGE',
        message: 'the request line and headers are larger than this server reads',
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, code: 'REQUEST_TIMEOUT', message: 'the request took too long to arrive' };
    default:
      return { status: 400, code: 'BAD_REQUEST', message: 'the request is not valid HTTP' };
  }
}

const REASON: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  414: 'URI Too Long',
  431: 'Request Header Fields Too Large',
};

/** Fastify's `clientErrorHandler`: writes the JSON answer on the raw socket, then closes it. */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  const e = socket.destroyed ? null : clientErrorReply(err);
  if (e && socket.writable) {
    const body = JSON.stringify(errorBody(e.code, e.message));
    socket.write(
      `HTTP/1.1 ${e.status} ${REASON[e.status] ?? 'Error'}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
  }
  socket.destroy();
}

/**
 * JSON is the only body a face reads. Fastify also parses text/plain by default; without that
 * parser a text/plain request is a 415 like any other wrong type, with or without a body.
 */
export function jsonBodiesOnly(app: FastifyInstance): void {
  if (app.hasContentTypeParser('text/plain')) app.removeContentTypeParser('text/plain');
}
