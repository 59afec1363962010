import assert from 'node:assert/strict';
import { hotpAt } from './codes.ts';
import { waitFor } from './ports.ts';
import { Api, randomBase32 } from './tessera.ts';

/** One login request as a caller saw it. */
export interface Attempt {
  user: string;
  counter: number;
  node: string;
  face: 'validate' | 'radius';
  result: 'accept' | 'reject' | 'challenge' | 'error';
  reason?: string;
  started: number;
  ended: number;
}

type Outcome = Pick<Attempt, 'result' | 'reason'>;

/** POST /v1/validate as Keycloak or any HTTP caller sends it; anything but a 200 is an error. */
export async function validateHttp(url: string, key: string, user: string, pass: string): Promise<Outcome> {
  try {
    const res = await fetch(`${url}/v1/validate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user, pass }),
      signal: AbortSignal.timeout(15_000),
    });
    if (res.status !== 200) {
      const code = ((await res.json().catch(() => null)) as { error?: { code?: string } } | null)?.error
        ?.code;
      return { result: 'error', reason: code ? `${res.status} ${code}` : String(res.status) };
    }
    const body = (await res.json()) as { result: Attempt['result']; reason?: string };
    return body.reason ? { result: body.result, reason: body.reason } : { result: body.result };
  } catch {
    return { result: 'error', reason: 'network' };
  }
}

/**
 * POST /radius/auth as FreeRADIUS's rlm_rest sends it: 204 accept, 401 reject (the reason in
 * Reply-Message), 200 challenge; a 5xx is what rlm_rest turns into "fail", an error here.
 */
export async function radiusHttp(url: string, key: string, user: string, pass: string): Promise<Outcome> {
  const attr = (value: string) => ({ type: 'string', value: [value] });
  try {
    const res = await fetch(`${url}/radius/auth`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ 'User-Name': attr(user), 'User-Password': attr(pass) }),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    if (res.status === 204) return { result: 'accept' };
    if (res.status === 200) return { result: 'challenge' };
    if (res.status === 401) {
      // the client is made with rejectDetail "reason": Reply-Message ends with "(OTP_REUSED)"
      const code = /\((OTP_[A-Z_]+|USER_[A-Z_]+)\)/.exec(text)?.[1];
      return code ? { result: 'reject', reason: code } : { result: 'reject' };
    }
    return { result: 'error', reason: String(res.status) };
  } catch {
    return { result: 'error', reason: 'network' };
  }
}

/**
 * Whether `code` (the code of `counter`) is also the code of a counter up to REPEAT_SPAN after it:
 * the look-ahead of 10 when sent, and the replays of assertAcceptedStayUsed (the server's counter
 * is then at most a few dozen past an accepted one).
 */
const REPEAT_SPAN = 64;
/** The server's HOTP look-ahead (settings.hotp.lookAhead, default). */
const LOOK_AHEAD = 10;
export function repeatsAhead(secret: string, counter: number, code: string): boolean {
  for (let c = counter + 1; c <= counter + REPEAT_SPAN; c++) if (hotpAt(secret, c) === code) return true;
  return false;
}

export interface LoadNode {
  name: string;
  url: string;
}

/**
 * HOTP logins from `users` users, each code sent to every node at once (half the users through
 * the JSON face, half through the RADIUS face), so a code could only be accepted twice if the
 * nodes disagreed. A code is moved past once some node accepted it or called it used.
 */
export class LoginLoad {
  readonly attempts: Attempt[] = [];
  readonly secrets = new Map<string, string>();
  private stopped = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly nodes: LoadNode[],
    private readonly keys: { api: string; radius: string },
  ) {}

  /** Creates the users (HOTP, counter 0) through the admin API of the master's node. */
  async enrol(admin: Api, prefix: string, users: number): Promise<void> {
    for (let i = 0; i < users; i++) {
      const secret = randomBase32();
      const username = `${prefix}-${i}`;
      await admin.ok('POST', '/v1/admin/users', { username });
      await admin.ok('POST', `/v1/admin/users/${username}/tokens`, { type: 'hotp', secret, counter: 0 });
      this.secrets.set(username, secret);
    }
  }

  start(): void {
    this.loops = [...this.secrets.keys()].map((user, i) =>
      this.loop(user, i % 2 === 0 ? 'validate' : 'radius'),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  private async loop(user: string, face: Attempt['face']): Promise<void> {
    const secret = this.secrets.get(user)!;
    let counter = 0;
    while (!this.stopped) {
      const code = hotpAt(secret, counter);
      // Six digits repeat: about one code in 90,000 is also the code of one of the next 11 counters
      // (the server's look-ahead), so sent twice it would rightly be accepted twice, as two
      // counters (RFC 4226, the same odds as a guess). Such codes are not sent.
      if (repeatsAhead(secret, counter, code)) {
        counter++;
        continue;
      }
      const outcomes = await Promise.all(
        this.nodes.map(async (node) => {
          const started = Date.now();
          const send = face === 'validate' ? validateHttp : radiusHttp;
          const o = await send(node.url, face === 'validate' ? this.keys.api : this.keys.radius, user, code);
          const a: Attempt = { user, counter, node: node.name, face, ...o, started, ended: Date.now() };
          this.attempts.push(a);
          return a;
        }),
      );
      if (outcomes.some((o) => o.result === 'accept' || o.reason === 'OTP_REUSED')) counter++;
      // An error leaves the code's fate unknown: send it again after a pause (pacing only).
      else await new Promise((r) => setTimeout(r, 50));
    }
  }

  acceptsSince(t: number, node?: string): number {
    return this.attempts.filter((a) => a.result === 'accept' && a.started > t && (!node || a.node === node))
      .length;
  }

  /** When `node` first answered accept to a request sent after `t` (0 if not yet). */
  firstAcceptAfter(t: number, node: string): number {
    let first = 0;
    for (const a of this.attempts)
      if (a.node === node && a.result === 'accept' && a.started > t && (!first || a.ended < first))
        first = a.ended;
    return first;
  }

  /** Every request sent, what failed, and the slowest answer, since `t`. */
  figures(t = 0): { sent: number; failed: Attempt[]; slowestMs: number; slowest?: Attempt } {
    const since = this.attempts.filter((a) => a.started >= t);
    let slowest: Attempt | undefined;
    for (const a of since) if (!slowest || a.ended - a.started > slowest.ended - slowest.started) slowest = a;
    return {
      sent: since.length,
      failed: since.filter((a) => a.result === 'error'),
      slowestMs: slowest ? slowest.ended - slowest.started : 0,
      ...(slowest ? { slowest } : {}),
    };
  }

  /** No (user, counter) was accepted twice, by any node, on any face. */
  assertNoDoubleAccept(): void {
    const seen = new Map<string, Attempt>();
    // which node and face accepted, and when: what a failover bug needs to be found
    const told = (a: Attempt) => `${a.node} ${a.face} ${a.started}..${a.ended}`;
    for (const a of this.attempts.filter((x) => x.result === 'accept')) {
      const key = `${a.user}#${a.counter}`;
      const first = seen.get(key);
      assert.ok(!first, `code ${key} was accepted twice: ${first && told(first)}, then ${told(a)}`);
      seen.set(key, a);
    }
  }

  /**
   * Every accepted code is refused now on every node: each user's last one as used (asked first:
   * the replays after it count as failures and end in the throttle), then the newest 200 (those
   * close enough to the last that no repeat of theirs lies in the server's look-ahead).
   */
  async assertAcceptedStayUsed(): Promise<void> {
    const accepts = this.attempts.filter((a) => a.result === 'accept');
    const replay = (list: Attempt[]) =>
      Promise.all(
        list.flatMap((a) =>
          this.nodes.map((n) =>
            validateHttp(n.url, this.keys.api, a.user, hotpAt(this.secrets.get(a.user)!, a.counter)),
          ),
        ),
      );
    const lastOfEach = [...new Map(accepts.map((a) => [a.user, a])).values()];
    const last = await replay(lastOfEach);
    assert.deepEqual([...new Set(last.map((r) => r.reason))], ['OTP_REUSED']);
    // Within the span the load kept free of repeats: an older code may rightly be a code of the
    // look-ahead past the server's counter (see repeatsAhead).
    const newest = new Map(lastOfEach.map((a) => [a.user, a.counter]));
    const replays = await replay(
      accepts.slice(-200).filter((a) => newest.get(a.user)! - a.counter <= REPEAT_SPAN - LOOK_AHEAD - 1),
    );
    assert.equal(replays.filter((r) => r.result === 'accept').length, 0, 'a replayed code was accepted');
  }
}

/**
 * Enrolments (a user and a token) on whichever node is the master now; a slave answers 409.
 * Only a 201 for the token counts as acknowledged. A 503 during a failover must carry
 * Retry-After and the stable code.
 */
export class EnrolLoad {
  readonly acknowledged: string[] = [];
  unavailable = 0;
  readonly malformed503: string[] = [];
  private stopped = false;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly nodes: LoadNode[],
    private readonly adminKey: string,
    private readonly prefix = 'enr',
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private async post(url: string, path: string, body: unknown): Promise<{ status: number; code?: string }> {
    const res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const parsed = (await res.json().catch(() => ({}))) as { error?: { code?: string } };
    const code = parsed.error?.code;
    if (res.status === 503) {
      this.unavailable++;
      if (res.headers.get('retry-after') === null || code !== 'STORE_UNAVAILABLE')
        this.malformed503.push(`${path}: retry-after=${res.headers.get('retry-after')} code=${code}`);
    }
    return code ? { status: res.status, code } : { status: res.status };
  }

  private async run(): Promise<void> {
    let n = 0;
    while (!this.stopped) {
      const username = `${this.prefix}-${n++}`;
      for (const node of this.nodes) {
        try {
          const u = await this.post(node.url, '/v1/admin/users', { username });
          if (u.status === 409 && u.code === 'READ_ONLY_REPLICA') continue;
          if (u.status !== 201 && u.status !== 409) continue;
          const t = await this.post(node.url, `/v1/admin/users/${username}/tokens`, { type: 'totp' });
          if (t.status === 201) {
            this.acknowledged.push(username);
            break;
          }
        } catch {
          // node unreachable: try the next
        }
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Every acknowledged enrolment is on `node` now, with its token. */
  async assertNoneLost(node: LoadNode): Promise<void> {
    const api = new Api(node.url, this.adminKey);
    for (const username of this.acknowledged) {
      const r = await api.call('GET', `/v1/admin/users/${username}`);
      assert.equal(r.status, 200, `enrolment ${username} was acknowledged and lost`);
      assert.equal(r.body.tokens.length, 1, `the token of ${username} was lost`);
    }
    assert.deepEqual(this.malformed503, [], 'every 503 carries Retry-After and STORE_UNAVAILABLE');
  }
}

/**
 * The loads a failover test runs: HOTP logins of `users` users (made through `admin`, the master's
 * node, with an API and a RADIUS caller) and enrolments, both against every node in `nodes`.
 */
export async function failoverLoads(
  admin: Api,
  nodes: LoadNode[],
  opts: { prefix: string; users: number; enrolPrefix?: string },
): Promise<{ load: LoginLoad; enrol: EnrolLoad }> {
  const keys = {
    api: await admin.createClient('api'),
    radius: await admin.createClient('radius', { rejectDetail: 'reason' }),
  };
  const load = new LoginLoad(nodes, keys);
  await load.enrol(admin, opts.prefix, opts.users);
  return { load, enrol: new EnrolLoad(nodes, admin.key, opts.enrolPrefix) };
}

/**
 * Runs both loads through a failure: logins flow first (two rounds of `users`), then `kill()`;
 * then each node of `recoverOn`, in turn, accepts again, logins flow on, and the requests held
 * through the gap get `holdMs` to finish. Both loads are stopped when this returns or throws.
 * Resolves with the time the kill returned; `afterKill` gets it at once (to start probes).
 */
export async function runThroughFailure(
  loads: { load: LoginLoad; enrol: EnrolLoad },
  opts: {
    users: number;
    holdMs: number;
    recoverOn: string[];
    kill(): Promise<void>;
    afterKill?(killAt: number): void;
  },
): Promise<number> {
  const { load, enrol } = loads;
  // a wait that ends without a throw: what did not happen is asserted on the figures afterwards
  const until = (what: string, cond: () => boolean, ms: number) =>
    waitFor(what, async () => cond(), ms, 20).catch(() => false);
  load.start();
  enrol.start();
  try {
    await until('logins before the failover', () => load.acceptsSince(0) >= 2 * opts.users, 30_000);
    assert.ok(load.acceptsSince(0) > 0, 'logins succeed before the failover');
    await opts.kill();
    const killAt = Date.now();
    opts.afterKill?.(killAt);
    for (const name of opts.recoverOn)
      await until(`an accept on node ${name}`, () => load.firstAcceptAfter(killAt, name) > 0, 30_000);
    // and logins keep flowing after that, while held requests drain
    const recovered = Date.now();
    await until('logins after the recovery', () => load.acceptsSince(recovered) >= opts.users, 10_000);
    await new Promise((r) => setTimeout(r, opts.holdMs));
    return killAt;
  } finally {
    await load.stop();
    await enrol.stop();
  }
}

/**
 * The first "request failed" lines each node logged (each names the store's cause), tagged with the
 * node's place in the list, for a message: a few from every node, not the first node's alone.
 */
export function failureLines(...nodes: { output(): string }[]): string {
  return nodes
    .flatMap((n, i) =>
      n
        .output()
        .split('\n')
        .filter((l) => /request failed/.test(l))
        .slice(0, 5)
        .map((l) => `[node ${i}] ${l}`),
    )
    .join('\n');
}

/**
 * What a failover must keep: no request failed (`why` explains one that did), none waited much past
 * the hold, no code was accepted twice, every accepted code stays used, and every acknowledged
 * enrolment is on `master` with its token.
 */
export async function assertFailoverKept(
  loads: { load: LoginLoad; enrol: EnrolLoad },
  opts: { killAt: number; holdMs: number; master: LoadNode; why?: string },
): Promise<void> {
  const { load, enrol } = loads;
  const all = load.figures();
  assert.deepEqual(
    all.failed.map((a) => `${a.node} ${a.face} ${a.reason} at +${a.started - opts.killAt} ms`),
    [],
    opts.why ? `no request failed; ${opts.why}` : 'no request failed',
  );
  assert.ok(
    all.slowestMs < opts.holdMs + 3_000,
    `no request waited much past the hold (${all.slowestMs} ms)`,
  );
  load.assertNoDoubleAccept();
  await load.assertAcceptedStayUsed();
  await enrol.assertNoneLost(opts.master);
}
