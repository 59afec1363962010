import type { Redis } from 'ioredis';
import type { DeviceState, PairingRecord, PushChallenge } from '../../model/index.ts';
import type { PushAnswerResult, PushStore } from '../push-types.ts';
import { parseJson } from './codec.ts';

export interface PushAccess {
  read<T>(fn: (r: Redis) => Promise<T>): Promise<T>;
  /** On the master; `acknowledge` waits for a replica like an accept does. */
  write<T>(fn: (w: Redis) => Promise<T>, acknowledge: boolean): Promise<T>;
}

/**
 * Layout (P = key prefix):
 *   P pair:<hash>          string  PairingRecord JSON, PX until its expiry
 *   P pairs:<serial>       set     the pairing hashes of a serial
 *   P nonce:<key>          string  SET NX PX: the first claim wins
 *   P push:<id>            hash    json (the push as created), state, answeredAt, consumed; PX
 *   P pushpending:<user>   zset    id → expiresAt of each pending push
 *   P devstate             hash    serial → DeviceState JSON
 * The mutable fields of a push live beside its JSON, so the scripts never re-encode JSON.
 */
const CREATE_PUSH = `
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'json', ARGV[3], 'state', 'pending', 'expiresAt', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
return 1
`;

/** KEYS: push, pending zset. ARGV: now, decision, id. → 1 answered | 0 not pending */
const ANSWER_PUSH = `
local f = redis.call('HMGET', KEYS[1], 'state', 'expiresAt')
if not f[1] then return 0 end
if f[1] ~= 'pending' or tonumber(f[2]) <= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'answeredAt', ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[3])
return 1
`;

/** KEYS: push. → 1 spent now | 0 not approved or spent already */
const CONSUME_PUSH = `
if redis.call('HGET', KEYS[1], 'state') ~= 'approved' then return 0 end
return redis.call('HSETNX', KEYS[1], 'consumed', '1')
`;

function fromHash(h: Record<string, string>): PushChallenge | null {
  if (!h.json || !h.state) return null;
  const push = parseJson<PushChallenge>(h.json);
  const state = h.state === 'approved' || h.state === 'denied' ? h.state : 'pending';
  return {
    ...push,
    state,
    ...(h.answeredAt ? { answeredAt: Number(h.answeredAt) } : {}),
    ...(h.consumed ? { consumed: true } : {}),
  };
}

export class RedisPushStore implements PushStore {
  constructor(
    private readonly p: string,
    private readonly access: PushAccess,
  ) {}

  async putPairing(pairing: PairingRecord): Promise<void> {
    const ttl = Math.max(1, Math.trunc(pairing.expiresAt - Date.now()));
    await this.access.write(
      (w) =>
        w
          .multi()
          .set(`${this.p}pair:${pairing.hash}`, JSON.stringify(pairing), 'PX', ttl)
          .sadd(`${this.p}pairs:${pairing.serial}`, pairing.hash)
          .pexpire(`${this.p}pairs:${pairing.serial}`, ttl)
          .exec(),
      true,
    );
  }

  async takePairing(hash: string, now: number): Promise<PairingRecord | null> {
    // GETDEL is one command: of two takes, one gets the record.
    const raw = await this.access.write((w) => w.getdel(`${this.p}pair:${hash}`), true);
    if (!raw) return null;
    const pairing = parseJson<PairingRecord>(raw);
    return pairing.expiresAt > now ? pairing : null;
  }

  async dropPairings(serial: string): Promise<void> {
    const set = `${this.p}pairs:${serial}`;
    await this.access.write(async (w) => {
      const hashes = await w.smembers(set);
      await w.del(set, ...hashes.map((h) => `${this.p}pair:${h}`));
    }, true);
  }

  async claimNonce(key: string, ttlMs: number): Promise<boolean> {
    const ok = await this.access.write(
      (w) => w.set(`${this.p}nonce:${key}`, '1', 'PX', Math.max(1, Math.trunc(ttlMs)), 'NX'),
      false,
    );
    return ok === 'OK';
  }

  async createPush(push: PushChallenge, maxPending: number, now: number, retainMs: number): Promise<boolean> {
    const ttl = Math.max(1, Math.trunc(push.expiresAt + retainMs - now));
    const { state: _, answeredAt: _a, consumed: _c, ...body } = push;
    const n = await this.access.write(
      (w) =>
        w.eval(
          CREATE_PUSH,
          2,
          `${this.p}push:${push.id}`,
          `${this.p}pushpending:${push.username}`,
          Math.trunc(now),
          maxPending,
          JSON.stringify(body),
          push.id,
          Math.trunc(push.expiresAt),
          ttl,
        ),
      true,
    );
    return Number(n) === 1;
  }

  async getPush(id: string): Promise<PushChallenge | null> {
    return fromHash(await this.access.read((r) => r.hgetall(`${this.p}push:${id}`)));
  }

  async pendingPushes(username: string, now: number): Promise<PushChallenge[]> {
    const ids = await this.access.read((r) =>
      r.zrangebyscore(`${this.p}pushpending:${username}`, `(${Math.trunc(now)}`, '+inf'),
    );
    if (ids.length === 0) return [];
    const hashes = await this.access.read(async (r) => {
      const pipe = r.pipeline();
      for (const id of ids) pipe.hgetall(`${this.p}push:${id}`);
      return (await pipe.exec()) ?? [];
    });
    return hashes
      .map(([, h]) => fromHash((h ?? {}) as Record<string, string>))
      .filter((p): p is PushChallenge => p !== null && p.state === 'pending' && p.expiresAt > now)
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  async answerPush(id: string, decision: 'approved' | 'denied', now: number): Promise<PushAnswerResult> {
    const key = `${this.p}push:${id}`;
    return this.access.write(async (w): Promise<PushAnswerResult> => {
      const before = fromHash(await w.hgetall(key));
      if (!before) return { kind: 'not-pending', push: null };
      const n = await w.eval(
        ANSWER_PUSH,
        2,
        key,
        `${this.p}pushpending:${before.username}`,
        Math.trunc(now),
        decision,
        id,
      );
      const after = fromHash(await w.hgetall(key));
      return Number(n) === 1 && after
        ? { kind: 'answered', push: after }
        : { kind: 'not-pending', push: after };
    }, true);
  }

  async consumePush(id: string): Promise<boolean> {
    const n = await this.access.write((w) => w.eval(CONSUME_PUSH, 1, `${this.p}push:${id}`), true);
    return Number(n) === 1;
  }

  async getDeviceState(serial: string): Promise<DeviceState | null> {
    const raw = await this.access.read((r) => r.hget(`${this.p}devstate`, serial));
    return raw ? parseJson<DeviceState>(raw) : null;
  }

  async putDeviceState(state: DeviceState): Promise<void> {
    await this.access.write((w) => w.hset(`${this.p}devstate`, state.serial, JSON.stringify(state)), false);
  }
}
