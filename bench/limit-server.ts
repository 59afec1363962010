// The benchmarks' baselines, each a bare Fastify app without logging:
// - the design-limit route: only the work a validation cannot avoid — hash the caller's key, read
//   the user from the store, unseal the seed (AES-256-GCM), three HMAC-SHA1 (a ±1 step window),
//   one durable write of the used step — on LMDB, or on Redis (with WAIT when it has replicas);
// - a no-op route that parses the same body and answers.
// Both also answer rlm_rest's dialect on /radius/auth, for FreeRADIUS in front of them.
// Validate's throughput is printed as a ratio to each, measured in the same run.
import { createHmac, hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { open } from 'lmdb';
import { KeyRing } from '../src/crypto/index.ts';
import { BENCH_SECRET_BYTES } from './codes.ts';
import type { Population } from './serve.ts';

interface LimitRecord {
  sealed: string;
  lastStep: number;
}

interface Started {
  port: number;
  apiKey: string;
  pid: number;
  rssBytes: number;
  populateMs: number;
  stop(): Promise<void>;
}

interface Body {
  user: string;
  pass?: string;
}

type RlmBody = Record<string, { value?: string[] } | undefined> | undefined;

const BODY_SCHEMA = {
  type: 'object',
  required: ['user'],
  additionalProperties: false,
  properties: { user: { type: 'string', maxLength: 256 }, pass: { type: 'string', maxLength: 256 } },
};

async function listen(app: FastifyInstance): Promise<number> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

function code(secret: Buffer, step: number): string {
  const counter = Buffer.alloc(8);
  counter.writeUInt32BE(Math.floor(step / 2 ** 32), 0);
  counter.writeUInt32BE(step >>> 0, 4);
  const h = createHmac('sha1', secret).update(counter).digest();
  const o = h[19]! & 0xf;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** The step the pass is the code of, in the window, after lastStep; every candidate computed. */
function matchStep(secret: Buffer, pass: string, lastStep: number): number | null {
  const now = Math.floor(Date.now() / 30_000);
  let found: number | null = null;
  const given = Buffer.from(pass.padEnd(6, ' ').slice(0, 6));
  for (let s = now - 1; s <= now + 1; s++) {
    const ok = timingSafeEqual(Buffer.from(code(secret, s)), given) && pass.length === 6;
    if (ok && s > lastStep && found === null) found = s;
  }
  return found;
}

export async function startLimitServer(spec: {
  store: 'lmdb' | 'redis';
  redisUrl?: string;
  replicas?: number;
  population: Population;
}): Promise<Started> {
  const ring = KeyRing.generate();
  const secret = randomBytes(32).toString('base64url');
  const keyHash = hash('sha256', secret, 'base64url');
  const apiKey = `tessera-client.${randomBytes(9).toString('base64url')}.${secret}`;
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-limit-'));
  // The same LMDB settings as the embedded store: every commit flushed before it resolves.
  const db =
    spec.store === 'lmdb'
      ? open<LimitRecord, string>({
          path: dir,
          compression: false,
          overlappingSync: false,
          useRecords: false,
          mapsAsObjects: true,
        } as Parameters<typeof open>[0])
      : null;
  const redis = spec.store === 'redis' ? new Redis(spec.redisUrl!, { enableAutoPipelining: true }) : null;
  const get = async (user: string): Promise<LimitRecord | null> => {
    if (db) return db.get(user) ?? null;
    const raw = await redis!.get(`limit:${user}`);
    return raw ? (JSON.parse(raw) as LimitRecord) : null;
  };
  const put = async (user: string, record: LimitRecord): Promise<void> => {
    if (db) {
      await db.put(user, record);
      return;
    }
    await redis!.set(`limit:${user}`, JSON.stringify(record));
    if (spec.replicas) await redis!.wait(spec.replicas, 1000);
  };

  const started = Date.now();
  let next = 0;
  const p = spec.population;
  await Promise.all(
    Array.from({ length: 512 }, async () => {
      while (next < p.count) {
        const user = `${p.prefix}${next++}`;
        await put(user, { sealed: ring.seal(BENCH_SECRET_BYTES, user), lastStep: 0 });
      }
    }),
  );
  const populateMs = Date.now() - started;

  const callerKnown = (header: string): boolean => {
    const given = Buffer.from(hash('sha256', header.slice(header.lastIndexOf('.') + 1), 'base64url'));
    return given.length === keyHash.length && timingSafeEqual(given, Buffer.from(keyHash));
  };
  const accepts = async (user: string, pass: string): Promise<boolean> => {
    const record = await get(user);
    const seed = record ? ring.open(record.sealed, user) : null;
    const step = record && seed ? matchStep(seed, pass, record.lastStep) : null;
    if (step === null) return false;
    await put(user, { sealed: record!.sealed, lastStep: step });
    return true;
  };

  const app = Fastify({ logger: false });
  app.post<{ Body: Body }>('/v1/validate', { schema: { body: BODY_SCHEMA } }, async (request, reply) => {
    if (!callerKnown(request.headers.authorization ?? ''))
      return reply.code(401).send({ code: 'UNAUTHORIZED' });
    const { user, pass = '' } = request.body;
    return (await accepts(user, pass))
      ? { result: 'accept', reason: 'OK' }
      : { result: 'reject', reason: 'OTP_INVALID' };
  });
  // The same work in rlm_rest's dialect (204 accept, 401 reject), for the RADIUS bench.
  app.post<{ Body: RlmBody }>('/radius/auth', async (request, reply) => {
    if (!callerKnown(request.headers.authorization ?? '')) return reply.code(401).send();
    const user = request.body?.['User-Name']?.value?.[0] ?? '';
    const pass = request.body?.['User-Password']?.value?.[0] ?? '';
    return reply.code((await accepts(user, pass)) ? 204 : 401).send();
  });
  const port = await listen(app);
  return {
    port,
    apiKey,
    pid: process.pid,
    rssBytes: process.memoryUsage.rss(),
    populateMs,
    stop: async () => {
      app.server.closeAllConnections();
      await app.close();
      await db?.close();
      redis?.disconnect();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startNoopServer(): Promise<Started> {
  const app = Fastify({ logger: false });
  app.post<{ Body: Body }>('/v1/validate', { schema: { body: BODY_SCHEMA } }, async () => ({
    result: 'accept',
    reason: 'OK',
  }));
  // As the RADIUS face answers an accept (rlm_rest: 204 is "ok"), for rlm_rest's own ceiling.
  app.post('/radius/auth', async (_request, reply) => reply.code(204).send());
  const port = await listen(app);
  return {
    port,
    apiKey: '',
    pid: process.pid,
    rssBytes: process.memoryUsage.rss(),
    populateMs: 0,
    stop: async () => {
      app.server.closeAllConnections();
      await app.close();
    },
  };
}
