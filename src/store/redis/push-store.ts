import type { Redis } from 'ioredis';
import type { DeviceState, PairingRecord, PushChallenge } from '../../model/index.ts';
import type { PushAnswerResult, PushStore } from '../push-types.ts';
import { parseJson } from './codec.ts';
import { runScript } from './links.ts';

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
 * The mutable fields of a push live beside its JSON, so the scripts never re-encode JSON
 * (push-scripts.ts).
 */
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
        runScript(w, 'tsCreatePush', [
          `${this.p}push:${push.id}`,
          `${this.p}pushpending:${push.username}`,
          Math.trunc(now),
          maxPending,
          JSON.stringify(body),
          push.id,
          Math.trunc(push.expiresAt),
          ttl,
        ]),
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
    // one step: the answer, the pending list, and the push as it is after
    const [answered, ...flat] = (await this.access.write(
      (w) => runScript(w, 'tsAnswerPush', [`${this.p}push:${id}`, Math.trunc(now), decision, id, this.p]),
      true,
    )) as [number, ...string[]];
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
    const after = fromHash(fields);
    return Number(answered) === 1 && after
      ? { kind: 'answered', push: after }
      : { kind: 'not-pending', push: after };
  }

  async consumePush(id: string): Promise<boolean> {
    const n = await this.access.write((w) => runScript(w, 'tsConsumePush', [`${this.p}push:${id}`]), true);
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
