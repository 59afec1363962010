import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, createUser, enrolToken, updateSettings } from '../src/admin/index.ts';
import { pinHashing } from '../src/crypto/index.ts';
import { timeStep } from '../src/otp/index.ts';
import { buildApp } from '../src/server/app.ts';
import { loadConfig } from '../src/server/config.ts';
import { createLogger } from '../src/server/logger.ts';
import { createServices } from '../src/server/services.ts';
import { openEmbeddedStore } from '../src/store/index.ts';
import { BENCH_SECRET, benchCodes } from './codes.ts';
import { type LoadResult, load } from './load.ts';

const USERS_PER_PHASE = 400;
const SECRET = BENCH_SECRET;

interface Phase {
  name: string;
  what: string;
  /** The flood running beside the measured logins; null: none. */
  flood: null | { victim: 'victim' | 'nopin'; throttle: boolean; unboundedHashing?: boolean };
}

const PHASES: Phase[] = [
  { name: 'baseline', what: 'TOTP logins alone', flood: null },
  {
    name: 'cheapFlood',
    what: 'the same beside an equal flood of wrong codes for a user without a PIN (HTTP load only, no scrypt): the reference for the PIN floods',
    flood: { victim: 'nopin', throttle: true },
  },
  {
    name: 'pinFloodThrottled',
    what: 'the same beside a flood of wrong PINs for a user with a PIN; default lockout and throttle',
    flood: { victim: 'victim', throttle: true },
  },
  {
    name: 'pinFloodUnthrottled',
    what: 'the PIN flood with lockout and throttle off, so every guess asks for its scrypts (bounded queue)',
    flood: { victim: 'victim', throttle: false },
  },
  {
    name: 'pinFloodUnbounded',
    what: 'as pinFloodUnthrottled with the scrypt queue opened wide: what the bound prevents',
    flood: { victim: 'victim', throttle: false, unboundedHashing: true },
  },
];

/**
 * Validate p99 for ordinary TOTP users (no PIN) while a PIN user is flooded with wrong guesses,
 * over real HTTP on one embedded-store node, each phase as a ratio to the baseline phase of the
 * same run. Each phase has its own users, so every measured request is a fresh, valid code.
 */
export async function benchPinFlood(
  seconds = Number(process.env.BENCH_SECONDS ?? 8),
): Promise<Record<string, unknown>> {
  const measured = Number(process.env.BENCH_CONCURRENCY ?? 16);
  const flooders = Number(process.env.BENCH_FLOOD_CONCURRENCY ?? 16);
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
  const storeDir = mkdtempSync(join(tmpdir(), 'tessera-bench-store-'));
  const config = loadConfig({ TESSERA_DATA_DIR: dataDir, TESSERA_PORT: '0', TESSERA_LOG_LEVEL: 'error' });
  const log = createLogger(config);
  const services = createServices(config, { store: openEmbeddedStore(storeDir), replication: null }, log);
  const app = await buildApp(services, log);
  const admin = services.admin('bench');
  const { apiKey } = await createClient(admin, { name: 'bench', kind: 'api' });
  for (const [p] of PHASES.entries()) {
    for (let i = 0; i < USERS_PER_PHASE; i++) {
      await createUser(admin, { username: `p${p}u${i}` });
      await enrolToken(admin, `p${p}u${i}`, { type: 'totp', secret: SECRET });
    }
  }
  await createUser(admin, { username: 'victim', pin: '4711' });
  await enrolToken(admin, 'victim', { type: 'totp', secret: SECRET });
  await createUser(admin, { username: 'nopin' });
  await enrolToken(admin, 'nopin', { type: 'totp', secret: SECRET });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/v1/validate`;
  const headers = { authorization: `Bearer ${apiKey}` };
  const codeAt = benchCodes();
  const limits = pinHashing.limits;
  const results: Record<string, unknown> = {};
  let baselineP99 = 0;
  let cheapP99 = 0;
  try {
    for (const [p, phase] of PHASES.entries()) {
      const off = phase.flood && !phase.flood.throttle;
      await updateSettings(admin, {
        lockout: { threshold: off ? 0 : 10 },
        throttle: { failuresPerWindow: off ? 0 : 5 },
      });
      await services.store.unlockUser('victim');
      await services.store.unlockUser('nopin');
      pinHashing.configure(phase.flood?.unboundedHashing ? { concurrency: 64, maxWaiting: 1e9 } : limits);
      const step0 = timeStep(Date.now(), 30);
      let accepts = 0;
      const logins = load({
        url,
        headers,
        seconds,
        concurrency: measured,
        body: (i) => {
          const step = Math.max(step0 - 1, timeStep(Date.now(), 30) - 1) + Math.floor(i / USERS_PER_PHASE);
          return JSON.stringify({ user: `p${p}u${i % USERS_PER_PHASE}`, pass: codeAt(step) });
        },
        check: (status, text) => {
          if (status === 200 && text.includes('"accept"')) accepts++;
          return status === 200;
        },
      });
      const reasons: Record<string, number> = {};
      const flood = phase.flood
        ? load({
            url,
            headers,
            seconds,
            concurrency: flooders,
            // Never the PIN (4711); for the user without a PIN, a 10-digit code is simply wrong.
            body: (i) => JSON.stringify({ user: phase.flood!.victim, pass: `${1000 + (i % 3000)}123456` }),
            check: (status, text) => {
              const reason = /"reason":"([A-Z_]+)"/.exec(text)?.[1] ?? String(status);
              reasons[reason] = (reasons[reason] ?? 0) + 1;
              return status === 200;
            },
          })
        : Promise.resolve(null);
      const [figures, flooded] = await Promise.all([logins, flood]);
      if (phase.name === 'baseline') baselineP99 = figures.p99ms;
      if (phase.name === 'cheapFlood') cheapP99 = figures.p99ms;
      results[phase.name] = {
        what: phase.what,
        logins: { ...summary(figures), accepts },
        ...(flooded ? { flood: { ...summary(flooded), reasons } } : {}),
        p99Ratio: +(figures.p99ms / baselineP99).toFixed(2),
        ...(cheapP99 && phase.name !== 'cheapFlood'
          ? { p99VsCheapFlood: +(figures.p99ms / cheapP99).toFixed(2) }
          : {}),
      };
    }
  } finally {
    pinHashing.configure(limits);
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(storeDir, { recursive: true, force: true });
  }
  return {
    what: 'validate p99 of TOTP users while another user is flooded with wrong PIN guesses: p99Ratio against the same logins without a flood, p99VsCheapFlood against them beside an equal flood that needs no scrypt',
    measuredConcurrency: measured,
    floodConcurrency: flooders,
    scryptQueue: limits,
    ...results,
    aim: 'pinFloodThrottled and pinFloodUnthrottled p99VsCheapFlood <= 2',
  };
}

function summary(r: LoadResult): Pick<LoadResult, 'requests' | 'perSecond' | 'p50ms' | 'p99ms' | 'errors'> {
  return { requests: r.requests, perSecond: r.perSecond, p50ms: r.p50ms, p99ms: r.p99ms, errors: r.errors };
}
