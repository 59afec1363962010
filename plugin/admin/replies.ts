// What the admin face answers, as schemas for the OpenAPI document. The views are src/admin's
// public projections (no PIN hash, key hash or sealed seed); fields are listed, extra ones allowed.
import { type TSchema, Type } from '@sinclair/typebox';
import { CLIENT_KINDS, METHODS } from '../../src/model/index.ts';
import { described, type ErrorStatus, errorReplies, shownOnce } from '../shared/index.ts';
import { CodeDeliveryView } from './code-delivery-schemas.ts';
import { MethodName, perMethod } from './schemas.ts';

const EpochMs = Type.Integer({ description: 'epoch milliseconds' });
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Switch = Type.Union([Type.Literal('enabled'), Type.Literal('disabled'), Type.Literal('inherit')]);
const MethodSwitches = perMethod(Type.Optional(Switch));
const items = <T extends TSchema>(item: T) => Type.Object({ items: Type.Array(item) });

export const UserView = Type.Object({
  username: Type.String(),
  displayName: Type.Optional(Type.String()),
  email: Type.Optional(Type.String()),
  phone: Type.Optional(Type.String()),
  group: Type.String(),
  enabled: Type.Boolean(),
  mfaRequired: Type.Boolean(),
  hasPin: Type.Boolean(),
  methods: MethodSwitches,
  createdAt: EpochMs,
  updatedAt: EpochMs,
});

/** A push token's phone (src/push): how it registered, its name, what it was told to offer. */
const DeviceView = Type.Object({
  registration: Type.Union([Type.Literal('offline'), Type.Literal('online')]),
  name: Type.Optional(Type.String()),
  platform: Type.Optional(Type.String()),
  pairedAt: Type.Optional(EpochMs),
  lastSyncAt: Type.Optional(EpochMs),
  config: Type.Optional(
    Type.Object({
      methods: Type.Array(Type.String()),
      numberMatching: Type.Boolean(),
      userVerification: Type.Boolean(),
    }),
  ),
});

export const TokenView = Type.Object({
  serial: Type.String(),
  username: Type.String(),
  type: Type.Union(METHODS.map((m) => Type.Literal(m))),
  description: Type.Optional(Type.String()),
  /** Mail and SMS tokens: where codes go instead of the user's own address or phone. */
  destination: Type.Optional(Type.String()),
  isDefault: Type.Boolean(),
  status: Type.Union([
    Type.Literal('active'),
    Type.Literal('disabled'),
    Type.Literal('locked'),
    Type.Literal('pending'),
  ]),
  algorithm: Type.Union([Type.Literal('SHA1'), Type.Literal('SHA256'), Type.Literal('SHA512')]),
  digits: Type.Union([Type.Literal(6), Type.Literal(8)]),
  period: Type.Union([Type.Literal(30), Type.Literal(60)]),
  resyncRequired: Type.Optional(Type.Boolean()),
  publicId: Type.Optional(
    Type.String({ description: 'yubikey: the public id (ModHex) that starts its OTPs' }),
  ),
  device: Type.Optional(DeviceView),
  createdAt: EpochMs,
  updatedAt: EpochMs,
});

const TokenState = Type.Object({
  counter: Type.Integer(),
  lastUsedStep: Type.Integer(),
  drift: Type.Integer(),
});

export const CreatedUser = described(
  'the user, created (no tokens yet)',
  Type.Object({ ...UserView.properties, tokens: Type.Array(TokenView, { maxItems: 0 }) }),
);

export const UserDetail = described(
  'the user, its lock state and its tokens with their counters',
  Type.Object({
    ...UserView.properties,
    locked: Type.Boolean(),
    lockedUntil: Nullable(Type.String({ format: 'date-time' })),
    failures: Type.Integer({ minimum: 0 }),
    tokens: Type.Array(Type.Object({ ...TokenView.properties, state: Type.Optional(TokenState) })),
  }),
);

export const UserPage = described(
  'a page of users; `next` is the `after` of the following page',
  Type.Object({ items: Type.Array(UserView), next: Type.Optional(Type.String()) }),
);

export const Enrolment = shownOnce(
  described(
    'the token; the secret is only inside otpauthUri and the QR code, shown this once',
    Type.Object({
      ...TokenView.properties,
      otpauthUri: Type.String({ pattern: '^otpauth://(totp|hotp)/' }),
      qrCode: Type.String({ pattern: '^data:image/png;base64,' }),
    }),
  ),
);

/** A YubiKey has no otpauth URI: the key holds its secrets already. */
export const YubikeyEnrolment = described(
  'the YubiKey token (its AES key and private id are never shown again)',
  Type.Object({ ...TokenView.properties, type: Type.Literal('yubikey'), publicId: Type.String() }),
);

/** A push token waits for its phone: the pairing QR (single use, 10 minutes), shown this once. */
export const PushEnrolment = shownOnce(
  described(
    'the pending push token and its pairing QR, shown this once',
    Type.Object({
      ...TokenView.properties,
      pairing: Type.Object({
        pairingToken: Type.String(),
        pairUri: Type.String({ pattern: '^tessera-pair://' }),
        pairLink: Type.String(),
        expiresAt: EpochMs,
      }),
      qrCode: Type.String({ pattern: '^data:image/png;base64,' }),
    }),
  ),
);

/** A mail or SMS token has nothing secret to show: the token alone. */
export const CodeEnrolment = described(
  'a mail or SMS token (codes are made and sent at sign-in; nothing secret to show)',
  TokenView,
);

export const TokenList = described("the user's tokens", items(TokenView));

export const ClientView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: Type.Union(CLIENT_KINDS.map((k) => Type.Literal(k))),
  allowedCidrs: Type.Array(Type.String()),
  challengeText: Type.String(),
  enabled: Type.Boolean(),
  unknownUserPolicy: Type.Optional(Type.Union([Type.Literal('reject'), Type.Literal('passthrough')])),
  rejectDetail: Type.Union([Type.Literal('generic'), Type.Literal('reason')]),
  firstFactor: Type.Union([Type.Literal('pin'), Type.Literal('upstream'), Type.Literal('ldap')]),
  auditSuccessRate: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  pushMode: Type.Optional(Type.Union([Type.Literal('poll'), Type.Literal('hold'), Type.Literal('code')])),
  pushHoldSeconds: Type.Optional(Type.Integer()),
  challenge: Type.Optional(Type.Union([Type.Literal('enabled'), Type.Literal('disabled')])),
  allowedMethods: Type.Optional(Type.Array(MethodName)),
  methodChoice: Type.Optional(Type.Union([Type.Literal('menu'), Type.Literal('default')])),
  createdAt: EpochMs,
});

export const CreatedClient = shownOnce(
  described(
    'the client and its API key, shown this once',
    Type.Object({ ...ClientView.properties, apiKey: Type.String({ pattern: '^tessera-client\\.' }) }),
  ),
);

export const ClientList = described('every client', items(ClientView));

export const GroupView = Type.Object({
  name: Type.String(),
  description: Type.Optional(Type.String()),
  methods: MethodSwitches,
  permanent: Type.Boolean(),
});

export const GroupList = described('every group', items(GroupView));

const On = Type.Union([Type.Literal('enabled'), Type.Literal('disabled')]);
export const SettingsView = Type.Object({
  issuer: Type.String(),
  newUserMode: Type.Union([
    Type.Literal('immediate'),
    Type.Literal('after-first-token'),
    Type.Literal('manual'),
  ]),
  unknownUserPolicy: Type.Union([Type.Literal('reject'), Type.Literal('passthrough')]),
  methods: perMethod(On),
  lockout: Type.Object({
    threshold: Type.Integer(),
    baseSeconds: Type.Integer(),
    maxSeconds: Type.Integer(),
  }),
  throttle: Type.Object({ failuresPerWindow: Type.Integer(), windowSeconds: Type.Integer() }),
  totp: Type.Object({ window: Type.Integer(), maxDrift: Type.Integer() }),
  hotp: Type.Object({ lookAhead: Type.Integer() }),
  resyncWindow: Type.Integer(),
  challengeTtlSeconds: Type.Integer(),
  codeDelivery: Type.Optional(CodeDeliveryView),
});

const AuditEvent = Type.Object({
  time: EpochMs,
  type: Type.String(),
  actor: Type.String(),
  username: Type.Optional(Type.String()),
  serial: Type.Optional(Type.String()),
  result: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String()),
  sourceIp: Type.Optional(Type.String()),
  nasIdentifier: Type.Optional(Type.String()),
  nasIpAddress: Type.Optional(Type.String()),
  detail: Type.Optional(
    Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
  ),
});

export const AuditPage = described(
  'a page of events, newest first; `next` is the cursor of the following page (null at the end)',
  Type.Object({ items: Type.Array(AuditEvent), next: Nullable(Type.String()) }),
);

const NodeRole = Type.Union([Type.Literal('standalone'), Type.Literal('master'), Type.Literal('slave')]);
export const ClusterView = described(
  "this node's role and every node it knows",
  Type.Object({
    role: NodeRole,
    nodes: Type.Array(
      Type.Object({
        id: Type.String(),
        url: Nullable(Type.String()),
        role: NodeRole,
        redisRole: Nullable(Type.Union([Type.Literal('master'), Type.Literal('slave')])),
        redisAddr: Nullable(Type.String()),
        replicationOffset: Nullable(Type.Integer()),
        lag: Nullable(Type.Integer()),
        lastSnapshot: Nullable(EpochMs),
        version: Type.String(),
        versionMismatch: Type.Boolean(),
        health: Type.Union([
          Type.Literal('ok'),
          Type.Literal('stale'),
          Type.Literal('down'),
          Type.Literal('redis-down'),
        ]),
        lastSeen: EpochMs,
      }),
    ),
  }),
);

/**
 * The error answers of an admin route: every one may answer 400 (its parameters or query), 401 and
 * 403 (the key, or its role: ROLE_FORBIDDEN), 503 (the store is unreachable); add NAMED for a route whose path names a record, 409
 * for a write (it exists, or this node is a read-only replica), 413 and 415 where a body is read.
 */
export function adminErrors(...statuses: ErrorStatus[]): Record<number, TSchema> {
  return errorReplies(...[...new Set([400, 401, 403, 503, ...statuses])].sort());
}
export const WRITE: ErrorStatus[] = [409, 413, 415];
/** A route whose path names a record: it may not exist, and a name may be too long for the router. */
export const NAMED: ErrorStatus[] = [404, 414];
