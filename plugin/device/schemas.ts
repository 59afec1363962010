import { Type } from '@sinclair/typebox';

const B64Url = (min: number, max: number) =>
  Type.String({ minLength: min, maxLength: max, pattern: '^[A-Za-z0-9_-]+$' });

export const PairBody = Type.Object(
  {
    pairingToken: B64Url(43, 43),
    publicKey: Type.Object(
      {
        kty: Type.Literal('EC'),
        crv: Type.Literal('P-256'),
        x: B64Url(43, 43),
        y: B64Url(43, 43),
      },
      { description: 'the public JWK (WebCrypto exportKey("jwk")); a private "d" is refused' },
    ),
    name: Type.String({ minLength: 1, maxLength: 64 }),
    platform: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);

export const DeviceConfigView = Type.Object({
  methods: Type.Array(Type.Union([Type.Literal('push'), Type.Literal('totp')])),
  numberMatching: Type.Boolean(),
  userVerification: Type.Boolean(),
  vapidPublicKey: Type.Optional(
    Type.String({ description: 'base64url; the applicationServerKey for a Web Push subscription' }),
  ),
});

export const Paired = Type.Object({
  deviceId: Type.String(),
  config: DeviceConfigView,
  totp: Type.Object({
    secret: Type.String({ description: 'base32, shown once: the phone makes codes with no network' }),
    digits: Type.Integer(),
    period: Type.Integer(),
    algorithm: Type.String(),
  }),
});

export const PushView = Type.Object({
  id: Type.String(),
  context: Type.Object({
    client: Type.String(),
    system: Type.String(),
    sourceIp: Type.Optional(Type.String()),
    time: Type.Integer(),
  }),
  createdAt: Type.Integer(),
  expiresAt: Type.Integer(),
  numberMatching: Type.Boolean(),
  numbers: Type.Optional(Type.Array(Type.Integer())),
  code: Type.Optional(Type.String({ description: 'code to phone: the user types it at the login' })),
  userVerification: Type.Boolean(),
});

export const PushList = Type.Object({ items: Type.Array(PushView) });

export const AnswerReply = Type.Object({
  state: Type.Union([Type.Literal('approved'), Type.Literal('denied')]),
});

export const AnswerBody = Type.Object(
  {
    decision: Type.Union([Type.Literal('approve'), Type.Literal('deny')]),
    number: Type.Optional(Type.Integer({ minimum: 0, maximum: 999 })),
    userVerified: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const PushParams = Type.Object({ id: B64Url(1, 64) });

export const WebPushBody = Type.Object(
  {
    endpoint: Type.String({ minLength: 8, maxLength: 2048, pattern: '^https?://' }),
    keys: Type.Object({ p256dh: B64Url(16, 256), auth: B64Url(8, 64) }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);

export const SyncBody = Type.Object({}, { additionalProperties: false });

/** The signature headers every device request but pairing carries. */
export const SignedHeaders = Type.Object({
  'x-tessera-device': Type.String({ description: 'the deviceId pairing returned' }),
  'x-tessera-timestamp': Type.String({ description: 'ms since the epoch; at most 60 s off' }),
  'x-tessera-nonce': Type.String({ description: 'base64url of 16 random bytes, never sent twice' }),
  'x-tessera-signature': Type.String({
    description:
      'base64url ECDSA P-256/SHA-256 (IEEE P1363 r||s) over METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nbase64url(SHA-256(body))',
  }),
});
