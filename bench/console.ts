// The admin console with 100,000 users: each page's p50/p95 (ms) as a signed-in superadmin, over
// Fastify's in-process injection (no socket: the figure is the node's own work), next to /healthz
// on the same app as the baseline. The goal is p95 < 100 ms on every page.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createConsoleAccount } from '../src/console/index.ts';
import { DEFAULT_GROUP, type User } from '../src/model/index.ts';
import { base32Decode, timeStep, totpAt } from '../src/otp/index.ts';
import { buildApp } from '../src/server/app.ts';
import { loadConfig } from '../src/server/config.ts';
import { createLogger } from '../src/server/logger.ts';
import { createServices } from '../src/server/services.ts';
import { openEmbeddedStore } from '../src/store/index.ts';

const USERS = Number(process.env.BENCH_CONSOLE_USERS ?? 100_000);
const ROUNDS = 60;

interface PageFigure {
  p50: number;
  p95: number;
  status: number;
}

function percentile(sorted: number[], p: number): number {
  return +sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!.toFixed(2);
}

async function timePage(app: FastifyInstance, url: string, cookie: string): Promise<PageFigure> {
  const times: number[] = [];
  let status = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const t = performance.now();
    const r = await app.inject({ method: 'GET', url, headers: { cookie } });
    times.push(performance.now() - t);
    status = r.statusCode;
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), p95: percentile(times, 0.95), status };
}

function cookieOf(setCookie: string | string[] | undefined, name: string): string {
  const all = [setCookie ?? []].flat();
  const found = all.find((c) => c.startsWith(`${name}=`));
  if (!found) throw new Error(`no ${name} cookie`);
  return found.split(';')[0]!;
}

/** Signs in as a person would: password, then the enrolment with a code of the page's seed. */
async function signIn(app: FastifyInstance, password: string): Promise<string> {
  const form = await app.inject({ method: 'GET', url: '/ui/signin' });
  const pre = cookieOf(form.headers['set-cookie'], 'tessera_console_pre');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)![1]!;
  const post = await app.inject({
    method: 'POST',
    url: '/ui/signin',
    headers: { cookie: pre, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ _csrf: csrf, username: 'bench', password }).toString(),
  });
  const pending = cookieOf(post.headers['set-cookie'], 'tessera_console');
  const enrol = await app.inject({ method: 'GET', url: '/ui/signin/enrol', headers: { cookie: pending } });
  const secret = /id="totp-secret">([A-Z2-7]+)</.exec(enrol.body)![1]!;
  const csrf2 = /name="_csrf" value="([^"]+)"/.exec(enrol.body)![1]!;
  const code = totpAt(
    { secret: base32Decode(secret)!, algorithm: 'SHA1', digits: 6, period: 30 },
    timeStep(Date.now(), 30),
  );
  const done = await app.inject({
    method: 'POST',
    url: '/ui/signin/enrol',
    headers: { cookie: pending, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ _csrf: csrf2, code }).toString(),
  });
  return cookieOf(done.headers['set-cookie'], 'tessera_console');
}

export async function benchConsole(): Promise<Record<string, unknown>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-bench-console-'));
  const config = loadConfig({ TESSERA_DATA_DIR: dataDir, TESSERA_PORT: '0', TESSERA_LOG_LEVEL: 'warn' });
  const log = createLogger(config);
  const store = openEmbeddedStore(dataDir);
  const services = createServices(config, { store, replication: null }, log);
  const app = await buildApp(services, log);
  try {
    await store.putGroup({ name: DEFAULT_GROUP, methods: {}, permanent: true });
    await store.putGroup({ name: 'staff', methods: {}, permanent: false });
    const seeded = performance.now();
    const now = Date.now();
    for (let start = 0; start < USERS; start += 2000) {
      const batch: Promise<boolean>[] = [];
      for (let i = start; i < Math.min(USERS, start + 2000); i++) {
        const user: User = {
          username: `user${String(i).padStart(6, '0')}`,
          group: i % 10 === 0 ? 'staff' : DEFAULT_GROUP,
          enabled: i % 50 !== 0,
          mfaRequired: true,
          methods: {},
          createdAt: now,
          updatedAt: now,
        };
        batch.push(store.createUser(user));
      }
      await Promise.all(batch);
    }
    const seedSeconds = +((performance.now() - seeded) / 1000).toFixed(1);
    const password = 'bench console password';
    await createConsoleAccount(services.admin('bench'), { username: 'bench', role: 'superadmin', password });
    await app.ready();
    const cookie = await signIn(app, password);
    const pages: Record<string, string> = {
      dashboard: '/ui/',
      users: '/ui/users',
      usersDeepPage: '/ui/users?after=user090000',
      usersSearch: '/ui/users?q=user0777',
      usersFilterGroup: '/ui/users?group=staff',
      usersFilterDisabled: '/ui/users?status=disabled',
      user: '/ui/users/user050000',
      groups: '/ui/groups',
      clients: '/ui/clients',
      settings: '/ui/settings',
      cluster: '/ui/cluster',
      logs: '/ui/logs',
    };
    const baseline = await timePage(app, '/healthz', '');
    const figures: Record<string, PageFigure & { ratio: number }> = {};
    for (const [name, url] of Object.entries(pages)) {
      const f = await timePage(app, url, cookie);
      if (f.status !== 200) throw new Error(`${url} answered ${f.status}`);
      figures[name] = { ...f, ratio: +(f.p95 / Math.max(baseline.p95, 0.01)).toFixed(1) };
    }
    const worst = Math.max(...Object.values(figures).map((f) => f.p95));
    return {
      users: await store.countUsers(),
      seedSeconds,
      baselineHealthz: baseline,
      pages: figures,
      worstP95: worst,
      under100ms: worst < 100,
    };
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(await benchConsole(), null, 2)}\n`);
}
