import { Type } from '@sinclair/typebox';

export const Username = Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\s/%{}\\x00-\\x1f]+$' });
export const Serial = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' });
export const Name = Type.String({ minLength: 1, maxLength: 128 });
export const MethodSwitch = Type.Union([
  Type.Literal('enabled'),
  Type.Literal('disabled'),
  Type.Literal('inherit'),
]);
export const Methods = Type.Object(
  { totp: Type.Optional(MethodSwitch), hotp: Type.Optional(MethodSwitch) },
  { additionalProperties: false },
);
export const UserParams = Type.Object({ username: Username });
export const TokenParams = Type.Object({ username: Username, serial: Serial });
export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

/** Query strings arrive as text (bodies are never type-coerced), so numbers are digit strings here. */
export const QueryLimit = Type.String({ pattern: '^[1-9][0-9]{0,3}$' });
export function limitOf(text: string | undefined, fallback: number, max = 1000): number {
  return Math.min(text ? Number(text) : fallback, max);
}
