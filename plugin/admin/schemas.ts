import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { METHODS, type Method } from '../../src/model/index.ts';

/**
 * The longest text a path parameter may hold, in code points. The router counts UTF-16 code units
 * after percent-decoding, and a code point outside the BMP takes two, so the router's limit
 * (ROUTER_MAX_PARAM_LENGTH, given to Fastify by src/server) is twice this: whatever a schema below
 * accepts at create is reachable by URL afterwards.
 */
export const MAX_PATH_PARAM = 128;
export const ROUTER_MAX_PARAM_LENGTH = 2 * MAX_PATH_PARAM;

/** No lone UTF-16 surrogate: it has no UTF-8 form, so no URL could name the record afterwards. */
const WHOLE_CODE_POINTS = '[^\\uD800-\\uDFFF]';

export const Username = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: '^[^\\s/%{}\\x00-\\x1f]+$',
  description:
    'kept in one canonical form (NFKC, case-folded); a name without one (control, format or unassigned characters) is a 400 INVALID_USERNAME',
});
export const Serial = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' });
/** Group, client and key names; a group name is also a path parameter. */
export const Name = Type.String({
  minLength: 1,
  maxLength: MAX_PATH_PARAM,
  pattern: `^${WHOLE_CODE_POINTS}+$`,
});
/**
 * A map keyed by group name. `__proto__` is left out of the key set: the JSON parser refuses a body
 * that holds it (prototype poisoning), so the schema must not promise it.
 */
export function ByGroupName<T extends TSchema>(value: T, maxProperties: number) {
  return Type.Unsafe<Record<string, Static<T>>>({
    type: 'object',
    additionalProperties: value,
    maxProperties,
    propertyNames: {
      minLength: 1,
      maxLength: MAX_PATH_PARAM,
      pattern: `^${WHOLE_CODE_POINTS}+$`,
      not: { enum: ['__proto__'] },
    },
  });
}
/** Client and admin-key ids, as minted (src/auth/api-keys.ts). */
export const KeyId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
export const MethodSwitch = Type.Union([
  Type.Literal('enabled'),
  Type.Literal('disabled'),
  Type.Literal('inherit'),
]);
/** One optional switch per method in METHODS. */
export function perMethod<T extends TSchema>(value: T) {
  return Type.Object(Object.fromEntries(METHODS.map((m) => [m, value])) as Record<Method, T>, {
    additionalProperties: false,
  });
}
export const Methods = perMethod(Type.Optional(MethodSwitch));
/** A method by name, as token types and `allowedMethods` name them. */
export const MethodName = Type.Union(METHODS.map((m) => Type.Literal(m)));
export const UserParams = Type.Object({ username: Username });
export const TokenParams = Type.Object({ username: Username, serial: Serial });
export const IdParams = Type.Object({ id: KeyId });

/** Query strings arrive as text (bodies are never type-coerced), so numbers are digit strings here. */
export const QueryLimit = Type.String({ pattern: '^[1-9][0-9]{0,3}$' });
export function limitOf(text: string | undefined, fallback: number, max = 1000): number {
  return Math.min(text ? Number(text) : fallback, max);
}

const B32 = '[A-Za-z2-7]';
const TAIL = (max7: boolean) =>
  `(?:${B32}{2}(?:======)?|${B32}{4}(?:====)?|${B32}{5}(?:===)?${max7 ? `|${B32}{7}=?` : ''})?`;
/**
 * RFC 4648 base32 of 10 to 128 bytes, exactly: whole 8-character groups, then a tail of 2, 4, 5 or
 * 7 characters (optionally padded). 16 characters are 10 bytes; 200 characters plus a 5-character
 * tail are 128. The document shows this pattern and the server applies the same one, so a secret
 * the schema lets through decodes to an allowed length.
 */
export const BASE32_SECRET_PATTERN = `^(?:(?:${B32}{8}){2,24}${TAIL(true)}|(?:${B32}{8}){25}${TAIL(false)})$`;
export const Base32Secret = Type.String({
  minLength: 16,
  maxLength: 208,
  pattern: BASE32_SECRET_PATTERN,
  description: 'RFC 4648 base32 (padding optional) of 10 to 128 bytes',
});
