// The rlm_rest JSON dialect as schemas, for the OpenAPI document only: the face judges bodies itself
// (parseAuthBody), because rlm_rest must get a RADIUS reject (401), never Fastify's 400, for a bad one.
import { type TSchema, Type } from '@sinclair/typebox';
import { described, ErrorReply } from '../shared/index.ts';

/** No control characters: parseAuthBody refuses them (and lone surrogates, which a pattern cannot say). */
const PLAIN_TEXT = '^[^\\u0000-\\u001f\\u007f]*$';

/** An attribute as rlm_rest sends it: its dictionary type and its values (exactly one for those read). */
function attribute(value: TSchema, type: string, description: string) {
  return Type.Object(
    {
      type: Type.Optional(Type.String({ examples: [type] })),
      value: Type.Array(value, { minItems: 1, maxItems: 1 }),
    },
    { description },
  );
}

export const AccessRequest = Type.Object(
  {
    'User-Name': attribute(
      Type.String({ minLength: 1, maxLength: 253, pattern: PLAIN_TEXT }),
      'string',
      'the login name',
    ),
    'User-Password': attribute(
      Type.String({ maxLength: 128, pattern: PLAIN_TEXT }),
      'string',
      'PIN followed by the code, the PIN alone, the code alone (second round) or empty',
    ),
    State: Type.Optional(
      attribute(
        Type.String({ pattern: '^0x([0-9a-fA-F]{2}){1,253}$' }),
        'octets',
        'the State of an Access-Challenge, echoed in the second round',
      ),
    ),
    'NAS-Identifier': Type.Optional(
      attribute(Type.String({ maxLength: 253, pattern: PLAIN_TEXT }), 'string', 'the NAS, for the audit log'),
    ),
    'NAS-IP-Address': Type.Optional(attribute(Type.String({ format: 'ipv4' }), 'ipaddr', 'the NAS')),
    'NAS-IPv6-Address': Type.Optional(attribute(Type.String({ format: 'ipv6' }), 'ipv6addr', 'the NAS')),
  },
  {
    description: 'rlm_rest `body = json`: every attribute of the Access-Request (others are ignored)',
    examples: [
      {
        'User-Name': { type: 'string', value: ['alice'] },
        'User-Password': { type: 'string', value: [''] },
        'NAS-IP-Address': { type: 'ipaddr', value: ['192.0.2.1'] },
      },
    ],
    additionalProperties: Type.Object({
      type: Type.Optional(Type.String()),
      value: Type.Array(Type.Union([Type.String(), Type.Number()])),
    }),
  },
);

/** A reply value; `do_xlat: false` keeps FreeRADIUS from expanding `%{...}` in it. */
function rlmValue(value: TSchema) {
  return Type.Object({ value, do_xlat: Type.Literal(false) });
}

export const ChallengeReply = described(
  'challenge: rlm_rest makes it an Access-Challenge carrying State and Reply-Message',
  Type.Object({
    'reply:Reply-Message': rlmValue(Type.String()),
    'reply:State': rlmValue(Type.String({ pattern: '^0x([0-9a-f]{2})+$' })),
    'control:Response-Packet-Type': rlmValue(Type.Literal('Access-Challenge')),
    'reply:Session-Timeout': Type.Optional(rlmValue(Type.Integer({ minimum: 1 }))),
  }),
);

const RejectReply = Type.Object({ 'reply:Reply-Message': rlmValue(Type.String()) });

export const RejectOrUnauthorized = described(
  'reject (an Access-Reject with Reply-Message; also for a malformed body), or a missing or wrong key',
  Type.Union([RejectReply, ErrorReply]),
);
