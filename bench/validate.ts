import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, createUser, enrolToken } from '../src/admin/index.ts';
import { timeStep } from '../src/otp/index.ts';
import { buildApp } from '../src/server/app.ts';
import { loadConfig } from '../src/server/config.ts';
import { createLogger } from '../src/server/logger.ts';
import { createServices } from '../src/server/services.ts';
import { openEmbeddedStore, type Store } from '../src/store/index.ts';
import { BENCH_SECRET, benchCodes } from './codes.ts';
import { type LoadResult, load } from './load.ts';

const USERS = 2000;
const SECRET = BENCH_SECRET;

export interface ValidateFigures {
  noop: LoadResult;
  validate: LoadResult & { accepts: number };
  ratio: number;
}

/**
 * TOTP validate throughput over real HTTP on loopback on a node built around `store`, next to a
 * no-op route on the same server. Each request is a fresh, valid code for one of USERS users
 * (every user accepts exactly one code per step, so the run cycles through users and counts
 * accepts). The node's data directory is temporary; the store is closed with the node.
 */
export async function validateOn(
  store: Store,
  seconds: number,
  concurrency: number,
  opts: { authLog?: boolean } = {},
): Promise<ValidateFigures> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
  const config = loadConfig({ TESSERA_DATA_DIR: dataDir, TESSERA_PORT: '0', TESSERA_LOG_LEVEL: 'warn' });
  const log = createLogger(config);
  const services = createServices(config, { store, replication: null }, log);
  if (opts.authLog === false) {
    // the baseline of the audit cost: decisions are not recorded at all (admin events still are)
    const record = services.audit.record.bind(services.audit);
    services.audit.record = (event) => {
      if (event.type !== 'validate') record(event);
    };
  }
  const app = await buildApp(services, log);
  app.get('/noop', async () => ({ ok: true }));
  const admin = services.admin('bench');
  const { apiKey } = await createClient(admin, { name: 'bench', kind: 'api' });
  for (let i = 0; i < USERS; i++) {
    await createUser(admin, { username: `u${i}` });
    await enrolToken(admin, `u${i}`, { type: 'totp', secret: SECRET });
  }
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const headers = { authorization: `Bearer ${apiKey}` };
  try {
    const noop = await load({
      url: `${base}/noop`,
      method: 'GET',
      headers,
      body: () => undefined,
      seconds,
      concurrency,
    });
    // Request i goes to user (i mod USERS) with the code of step (now - 1 + i div USERS): the next
    // unused step inside the ±1 window, later ones are refused as expected; only accepts count.
    let accepts = 0;
    const codeAt = benchCodes();
    const step0 = timeStep(Date.now(), 30);
    const validate = await load({
      url: `${base}/v1/validate`,
      headers,
      seconds,
      concurrency,
      body: (i) => {
        const step = Math.max(step0 - 1, timeStep(Date.now(), 30) - 1) + Math.floor(i / USERS);
        return JSON.stringify({ user: `u${i % USERS}`, pass: codeAt(step) });
      },
      check: (status, text) => {
        if (status === 200 && text.includes('"accept"')) accepts++;
        return status === 200;
      },
    });
    return {
      noop,
      validate: { ...validate, accepts },
      ratio: +(validate.perSecond / noop.perSecond).toFixed(3),
    };
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** `npm run bench` → validateEmbedded: the figures above on the embedded (LMDB) store. */
export async function benchValidate(
  seconds = Number(process.env.BENCH_SECONDS ?? 8),
): Promise<Record<string, unknown>> {
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 64);
  const storeDir = mkdtempSync(join(tmpdir(), 'tessera-bench-store-'));
  try {
    const figures = await validateOn(openEmbeddedStore(storeDir), seconds, concurrency);
    return {
      what: 'TOTP validate over HTTP on the embedded store vs a no-op route on the same server',
      concurrency,
      ...figures,
      aim: '>= 0.5',
    };
  } finally {
    rmSync(storeDir, { recursive: true, force: true });
  }
}
