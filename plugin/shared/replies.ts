// Schemas of what the faces answer, for the OpenAPI document (served at /docs/json) and the fuzz test
// that holds the server to it: the error envelope, empty answers, security requirements and links.
import { type TSchema, Type } from '@sinclair/typebox';

/** Every 4xx/5xx JSON answer (the contract's error shape). */
export const ErrorReply = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String({ description: 'stable machine code, e.g. NOT_FOUND' }),
        message: Type.String({ description: 'for people; never carries a secret' }),
      },
      { required: ['code', 'message'] },
    ),
  },
  { required: ['error'] },
);

const ERROR_MEANING: Record<number, string> = {
  400: 'malformed input (changes nothing)',
  401: 'missing or wrong API key',
  403: 'a key of the wrong kind or role, a disabled client or an address outside its allowed CIDRs',
  404: 'no such resource',
  409: 'exists already, or a configuration write on a read-only replica (READ_ONLY_REPLICA)',
  413: 'the body is too large',
  414: 'a path parameter longer than any name can be (URI_TOO_LONG)',
  415: 'the body is not application/json',
  503: 'the store cannot be reached',
};

export type ErrorStatus = keyof typeof ERROR_MEANING;

/** `{status: ErrorReply}` for each status, described. */
export function errorReplies(...statuses: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = {};
  for (const status of statuses) {
    out[status] = { ...ErrorReply, description: ERROR_MEANING[status] ?? 'error' };
  }
  return out;
}

/** A success answer and its description (the document shows the description per status). */
export function described<T extends TSchema>(description: string, schema: T): T {
  return { ...schema, description };
}

/** An answer that carries a secret shown once: no cache may keep it. */
export function shownOnce<T extends TSchema>(schema: T): T {
  return { ...schema, headers: { 'cache-control': Type.Literal('no-store') } };
}

/** A 204 (or other) answer without a body. */
export function noContent(description: string): TSchema {
  return Type.Null({ description });
}

/** Who may call: admin keys reach /v1/admin/*, client keys /v1/validate, /radius/*, /v1/cluster/*. */
export const ADMIN_KEY = [{ adminKey: [] }] as const;
export const CLIENT_KEY = [{ clientKey: [] }] as const;
export const NO_KEY = [] as const;

/** The security schemes the requirements above name (both are `Authorization: Bearer <key>`). */
export const SECURITY_SCHEMES = {
  adminKey: { type: 'http', scheme: 'bearer', description: 'an admin API key (tessera-admin.ID.SECRET)' },
  clientKey: {
    type: 'http',
    scheme: 'bearer',
    description: 'a client API key (tessera-client.ID.SECRET), one per relying system',
  },
} as const;

/**
 * An OpenAPI link: the operation a response leads to, where its parameters come from and, where it
 * takes a body, the fields of it the response fills in (runtime expressions such as
 * `$response.body#/name`).
 */
export function link(
  operationId: string,
  parameters: Record<string, string>,
  requestBody?: Record<string, unknown>,
) {
  return { operationId, parameters, ...(requestBody ? { requestBody } : {}) };
}
