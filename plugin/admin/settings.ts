import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { loadSettings, updateSettings } from '../../src/admin/index.ts';
import { MAX_HOTP_LOOKAHEAD, MAX_TOTP_WINDOW, type Settings } from '../../src/model/index.ts';
import { ADMIN_KEY, described } from '../shared/index.ts';
import { adminContext } from './actor.ts';
import { CodeDeliveryPatch } from './code-delivery-schemas.ts';
import type { AdminFaceOptions } from './options.ts';
import { adminErrors, SettingsView, WRITE } from './replies.ts';
import { ByGroupName, perMethod } from './schemas.ts';

const Switch = Type.Union([Type.Literal('enabled'), Type.Literal('disabled')]);
const PositiveInt = (max: number) => Type.Integer({ minimum: 0, maximum: max });
const SettingsPatch = Type.Object(
  {
    issuer: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    newUserMode: Type.Optional(
      Type.Union([Type.Literal('immediate'), Type.Literal('after-first-token'), Type.Literal('manual')]),
    ),
    unknownUserPolicy: Type.Optional(Type.Union([Type.Literal('reject'), Type.Literal('passthrough')])),
    methods: Type.Optional(perMethod(Type.Optional(Switch))),
    lockout: Type.Optional(
      Type.Object(
        {
          threshold: Type.Optional(PositiveInt(1000)),
          baseSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86400 })),
          maxSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 86400 })),
        },
        { additionalProperties: false },
      ),
    ),
    throttle: Type.Optional(
      Type.Object(
        {
          failuresPerWindow: Type.Optional(PositiveInt(10000)),
          windowSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
        },
        { additionalProperties: false },
      ),
    ),
    totp: Type.Optional(
      Type.Object(
        { window: Type.Optional(PositiveInt(MAX_TOTP_WINDOW)), maxDrift: Type.Optional(PositiveInt(100)) },
        { additionalProperties: false },
      ),
    ),
    hotp: Type.Optional(
      Type.Object(
        { lookAhead: Type.Optional(PositiveInt(MAX_HOTP_LOOKAHEAD)) },
        { additionalProperties: false },
      ),
    ),
    resyncWindow: Type.Optional(Type.Integer({ minimum: 10, maximum: 10000 })),
    challengeTtlSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
    push: Type.Optional(
      Type.Object(
        {
          numberMatching: Type.Optional(Type.Boolean()),
          userVerification: Type.Optional(Type.Boolean()),
          maxPending: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
          timeoutSeconds: Type.Optional(Type.Integer({ minimum: 10, maximum: 600 })),
          onlineRegistration: Type.Optional(Type.Boolean()),
          onlineRegistrationGroups: Type.Optional(ByGroupName(Type.Boolean(), 1000)),
        },
        {
          additionalProperties: false,
          description: 'push approval and online devices (defaults: src/push/settings.ts)',
        },
      ),
    ),
    codeDelivery: Type.Optional(CodeDeliveryPatch),
  },
  { additionalProperties: false, minProperties: 1 },
);

/** Directory sources and logging have their own routes (sources never show the sealed bind passwords). */
function shown(settings: Settings): Omit<Settings, 'directorySources' | 'logging'> {
  const { directorySources: _sources, logging: _logging, ...rest } = settings;
  return rest;
}

export async function settingsRoutes(app: FastifyInstance, face: AdminFaceOptions): Promise<void> {
  const tags = ['settings'];
  const getSchema = {
    tags,
    operationId: 'getSettings',
    security: ADMIN_KEY,
    response: { 200: described('the settings in force', SettingsView), ...adminErrors() },
  };
  app.get('/settings', { config: { permission: 'settings:read' }, schema: getSchema }, async () =>
    shown(await loadSettings(face.store)),
  );
  app.patch<{ Body: Static<typeof SettingsPatch> }>(
    '/settings',
    {
      config: { permission: 'settings:write' },
      schema: {
        tags,
        operationId: 'updateSettings',
        security: ADMIN_KEY,
        body: SettingsPatch,
        response: { 200: described('the settings, changed', SettingsView), ...adminErrors(...WRITE) },
      },
    },
    async (request) => shown(await updateSettings(adminContext(face, request), request.body)),
  );
}
