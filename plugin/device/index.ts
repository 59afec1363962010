// The device face for online authenticators: pairing, signed requests, push events (SSE), answers.
import type { Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { AdminContext } from '../../src/admin/index.ts';
import { type PushChallenge, type Settings, TesseraError, type Token } from '../../src/model/index.ts';
import {
  authenticateDevice,
  deviceConfig,
  type PushService,
  pairDevice,
  webPushEndpointAllowed,
} from '../../src/push/index.ts';
import type { Store } from '../../src/store/index.ts';
import { checkOptions, described, errorReplies, installErrorHandler, NO_KEY } from '../shared/index.ts';
import {
  AnswerBody,
  AnswerReply,
  DeviceConfigView,
  PairBody,
  Paired,
  PushList,
  PushParams,
  type PushView,
  SignedHeaders,
  SyncBody,
  WebPushBody,
} from './schemas.ts';

export interface DeviceFaceOptions {
  store: Store;
  push: PushService;
  settings: () => Promise<Settings>;
  /** The context pairing writes the token through, with `actor` in its audit events. */
  adminContext: (actor: string, sourceIp?: string) => AdminContext;
  /** How often an open event stream looks for pushes other nodes created (ms). */
  eventPollMs?: number;
  /** Comment lines that keep an idle event stream open through proxies (ms). */
  pingMs?: number;
  /** The VAPID public key (base64url) the app subscribes to Web Push wake-ups with. */
  vapidPublicKey?: () => string;
  /** The hosts a wake-up subscription may name (TESSERA_WEBPUSH_HOSTS); none: no subscription is kept. */
  webPushHosts?: readonly string[];
}

/** What the phone sees of a push: never the right number. */
export function pushView(push: PushChallenge): Static<typeof PushView> {
  return {
    id: push.id,
    context: push.context,
    createdAt: push.createdAt,
    expiresAt: push.expiresAt,
    numberMatching: push.numbers !== undefined,
    ...(push.numbers ? { numbers: push.numbers } : {}),
    ...(push.code !== undefined ? { code: push.code } : {}),
    userVerification: push.userVerification,
  };
}

const rawBodies = new WeakMap<FastifyRequest, Buffer>();
const devices = new WeakMap<FastifyRequest, Token>();

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return typeof v === 'string' ? v : undefined;
}

function deviceOf(request: FastifyRequest): Token {
  const token = devices.get(request);
  if (!token) throw new Error('device route without its signature check');
  return token;
}

async function deviceFace(app: FastifyInstance, opts: DeviceFaceOptions): Promise<void> {
  checkOptions('tessera-device', opts, {
    store: 'the Store',
    push: 'the PushService',
    settings: 'the settings reader',
    adminContext: 'the admin context factory pairing writes through',
  });
  const { store, push } = opts;
  installErrorHandler(app);
  // The signature covers the body's bytes as sent: keep them beside the parsed JSON.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const raw = body as Buffer;
    rawBodies.set(request, raw);
    try {
      done(null, raw.length === 0 ? undefined : JSON.parse(raw.toString('utf8')));
    } catch {
      const err = new SyntaxError('the body is not valid JSON');
      done(err as Error, undefined);
    }
  });

  const signed = async (request: FastifyRequest) => {
    const token = await authenticateDevice(store, {
      method: request.method,
      path: request.url,
      device: header(request, 'x-tessera-device'),
      timestamp: header(request, 'x-tessera-timestamp'),
      nonce: header(request, 'x-tessera-nonce'),
      signature: header(request, 'x-tessera-signature'),
      body: rawBodies.get(request) ?? '',
    });
    devices.set(request, token);
  };
  const tags = ['device'];
  const signedErrors = (...more: number[]) => errorReplies(400, 401, ...more, 503);

  app.post<{ Body: Static<typeof PairBody> }>(
    '/pair',
    {
      schema: {
        tags,
        operationId: 'pairDevice',
        summary: 'Pair a phone with the single-use pairing token of its enrolment QR',
        security: NO_KEY,
        body: PairBody,
        response: {
          201: described('paired: the device id, its configuration, the TOTP seed (once)', Paired),
          ...errorReplies(400, 401, 409, 503),
        },
      },
    },
    async (request, reply) => {
      const paired = await pairDevice(opts.adminContext('device:pairing', request.ip), request.body);
      reply.header('cache-control', 'no-store');
      return reply.code(201).send({ deviceId: paired.deviceId, config: paired.config, totp: paired.totp });
    },
  );

  app.get(
    '/config',
    {
      preValidation: signed,
      schema: {
        tags,
        operationId: 'deviceConfig',
        security: NO_KEY,
        headers: SignedHeaders,
        response: { 200: described("the device's configuration", DeviceConfigView), ...signedErrors() },
      },
    },
    async (request) => ({
      ...deviceConfig(deviceOf(request), await opts.settings()),
      ...(opts.vapidPublicKey ? { vapidPublicKey: opts.vapidPublicKey() } : {}),
    }),
  );

  app.post(
    '/sync',
    {
      preValidation: signed,
      schema: {
        tags,
        operationId: 'syncDevice',
        security: NO_KEY,
        headers: SignedHeaders,
        body: SyncBody,
        response: {
          200: described('the configuration; the last-sync time is noted', DeviceConfigView),
          ...signedErrors(),
        },
      },
    },
    async (request) => {
      const token = deviceOf(request);
      const before = await store.push.getDeviceState(token.serial);
      await store.push.putDeviceState({ ...before, serial: token.serial, lastSyncAt: Date.now() });
      return deviceConfig(token, await opts.settings());
    },
  );

  app.put<{ Body: Static<typeof WebPushBody> }>(
    '/webpush',
    {
      preValidation: signed,
      schema: {
        tags,
        operationId: 'deviceWebPush',
        security: NO_KEY,
        headers: SignedHeaders,
        body: WebPushBody,
        response: { 204: { type: 'null', description: 'kept: wake-ups go there' }, ...signedErrors() },
      },
    },
    async (request, reply) => {
      const token = deviceOf(request);
      if (!webPushEndpointAllowed(request.body.endpoint, opts.webPushHosts ?? []))
        throw new TesseraError(
          'BAD_URL',
          'endpoint: wake-ups go only to https push services this server is configured for',
        );
      const before = await store.push.getDeviceState(token.serial);
      await store.push.putDeviceState({
        serial: token.serial,
        lastSyncAt: before?.lastSyncAt ?? Date.now(),
        webPush: request.body,
      });
      return reply.code(204).send();
    },
  );

  app.get(
    '/pushes',
    {
      preValidation: signed,
      schema: {
        tags,
        operationId: 'devicePushes',
        security: NO_KEY,
        headers: SignedHeaders,
        response: {
          200: described('the pending pushes of this device', PushList),
          ...signedErrors(),
        },
      },
    },
    async (request) => ({ items: (await push.pendingFor(deviceOf(request))).map(pushView) }),
  );

  app.post<{ Params: Static<typeof PushParams>; Body: Static<typeof AnswerBody> }>(
    '/pushes/:id/answer',
    {
      preValidation: signed,
      schema: {
        tags,
        operationId: 'answerPush',
        security: NO_KEY,
        headers: SignedHeaders,
        params: PushParams,
        body: AnswerBody,
        response: {
          200: described('answered: approved or denied', AnswerReply),
          ...signedErrors(409),
        },
      },
    },
    async (request) => ({
      state: await push.answer(deviceOf(request), request.params.id, request.body),
    }),
  );

  const streams = new Set<FastifyReply>();
  app.addHook('preClose', async () => {
    for (const r of streams) r.raw.end();
  });

  app.get(
    '/events',
    {
      preValidation: signed,
      schema: {
        tags,
        operationId: 'deviceEvents',
        summary: 'Server-Sent Events: `push` (a push to answer), `config`; a `: ping` comment every 15 s',
        security: NO_KEY,
        headers: SignedHeaders,
        response: { 200: { description: 'text/event-stream', type: 'string' }, ...signedErrors() },
      },
    },
    async (request, reply) => {
      const token = deviceOf(request);
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      streams.add(reply);
      const sent = new Set<string>();
      const send = (event: string, data: unknown) => {
        if (!raw.writableEnded) raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      };
      const offer = (p: PushChallenge) => {
        if (sent.has(p.id) || p.expiresAt <= Date.now()) return;
        sent.add(p.id);
        send('push', pushView(p));
      };
      // The stream was opened with one signature: each look checks the device is still that phone
      // (active, same key). A phone replaced by a rescan, or a token disabled, locked or deleted,
      // has its stream ended, so it learns of no later push (nor a code to type).
      const stillThisPhone = async () => {
        const now = await opts.store.getToken(token.serial);
        const same =
          now?.status === 'active' &&
          JSON.stringify(now.device?.publicKey) === JSON.stringify(token.device?.publicKey);
        if (!same && !raw.writableEnded) raw.end();
        return same;
      };
      const look = async () => {
        try {
          if (!(await stillThisPhone())) return;
          for (const p of await push.pendingFor(token)) offer(p);
        } catch {
          // the store is away for a moment: the next look tries again
        }
      };
      send('config', deviceConfig(token, await opts.settings()));
      const off = push.onPush(
        token.serial,
        (p) =>
          void stillThisPhone().then(
            (same) => same && offer(p),
            () => {},
          ),
      );
      await look();
      const poll = setInterval(() => void look(), opts.eventPollMs ?? 1000);
      const ping = setInterval(() => {
        if (!raw.writableEnded) raw.write(': ping\n\n');
      }, opts.pingMs ?? 15_000);
      const close = () => {
        off();
        clearInterval(poll);
        clearInterval(ping);
        streams.delete(reply);
      };
      raw.once('close', close);
    },
  );
}

/** Encapsulated: its body parser (raw bytes kept for the signature) stays inside its own routes. */
export const devicePlugin = fp(deviceFace, { name: 'tessera-device', fastify: '5.x', encapsulate: true });
