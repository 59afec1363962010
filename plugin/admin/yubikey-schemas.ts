// Request bodies for YubiKeys: enrolment as the personalisation tool writes the values, and the
// import of its programming files.
import { Type } from '@sinclair/typebox';

export const YubikeyBody = Type.Object(
  {
    type: Type.Literal('yubikey'),
    publicId: Type.String({
      minLength: 2,
      maxLength: 32,
      pattern: '^([cbdefghijklnrtuvCBDEFGHIJKLNRTUV]{2})+$',
      description: 'ModHex, 1 to 16 bytes: the start of every OTP of the key',
    }),
    privateId: Type.String({ pattern: '^[0-9a-fA-F]{12}$', description: 'hex, 6 bytes' }),
    aesKey: Type.String({ pattern: '^[0-9a-fA-F]{32}$', description: 'hex, 16 bytes' }),
    description: Type.Optional(Type.String({ maxLength: 256 })),
    isDefault: Type.Optional(Type.Boolean()),
  },
  {
    additionalProperties: false,
    examples: [
      {
        type: 'yubikey',
        publicId: 'vvcccccbhtkn',
        privateId: '8792ebfe26cc',
        aesKey: 'ecde18dbe76fbd0c33330f1c354871db',
      },
    ],
  },
);
