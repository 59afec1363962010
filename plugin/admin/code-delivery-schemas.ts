import { Type } from '@sinclair/typebox';
import { CODE_LENGTH, MAX_SEND_WINDOW_SECONDS } from '../../src/model/index.ts';

// Settings.codeDelivery (src/model/code-delivery.ts): mail and SMS codes.

const count = Type.Integer({ minimum: 1, maximum: 1000 });
const windowSeconds = Type.Integer({ minimum: 1, maximum: MAX_SEND_WINDOW_SECONDS });
const LimitPatch = Type.Object(
  { count: Type.Optional(count), windowSeconds: Type.Optional(windowSeconds) },
  { additionalProperties: false },
);
const Limit = Type.Object({ count, windowSeconds });

const fields = {
  length: Type.Integer({ minimum: CODE_LENGTH.min, maximum: CODE_LENGTH.max }),
  lifetimeSeconds: Type.Integer({ minimum: 10, maximum: 3600 }),
  resendLimit: Type.Integer({ minimum: 0, maximum: 10 }),
  smsText: Type.String({ minLength: 1, maxLength: 320, pattern: '\\{otp\\}' }),
};

export const CodeDeliveryPatch = Type.Object(
  {
    length: Type.Optional(fields.length),
    lifetimeSeconds: Type.Optional(fields.lifetimeSeconds),
    resendLimit: Type.Optional(fields.resendLimit),
    perUser: Type.Optional(LimitPatch),
    perDestination: Type.Optional(LimitPatch),
    smsText: Type.Optional(fields.smsText),
  },
  { additionalProperties: false },
);

export const CodeDeliveryView = Type.Object({
  ...fields,
  smsText: Type.String(),
  perUser: Limit,
  perDestination: Limit,
});
