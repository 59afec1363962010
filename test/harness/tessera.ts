import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, StopWaiting, waitFor } from './ports.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');

/**
 * The environment a spawned node or CLI run starts from: what a shell needs to find programs, and
 * nothing of the test process's own (no TESSERA_* of the developer's shell leaks into a test).
 */
export function baseEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'JAVA_HOME']) {
    const v = process.env[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}

export interface TesseraHandle {
  url: string;
  port: number;
  dataDir: string;
  adminKey: string;
  /** Everything the process wrote, for failure messages. */
  output(): string;
  /** SIGTERM and wait; removes the data dir unless keepData. */
  stop(opts?: { keepData?: boolean }): Promise<void>;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string>;
  dataDir?: string;
  port?: number;
  /** Wait for admin.key (false on a slave, which never creates one). */
  expectAdminKey?: boolean;
  /** Wait for /readyz 200 (default); false waits for /healthz only, for a node meant to be unready. */
  waitForReady?: boolean;
}

/** Starts a real Tessera node (`node bin/tessera.mjs serve`) on a free loopback port. */
export async function startTessera(opts: StartOptions = {}): Promise<TesseraHandle> {
  const port = opts.port ?? (await freePort());
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'tessera-node-'));
  const child: ChildProcess = spawn(process.execPath, [join(REPO_ROOT, 'bin/tessera.mjs'), 'serve'], {
    cwd: REPO_ROOT,
    env: {
      ...baseEnv(),
      TESSERA_HOST: '127.0.0.1',
      TESSERA_PORT: String(port),
      TESSERA_DATA_DIR: dataDir,
      TESSERA_LOG_LEVEL: process.env.TESSERA_TEST_LOG_LEVEL ?? 'warn',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      `Tessera on ${url}`,
      async () => {
        if (child.exitCode !== null)
          throw new StopWaiting(`exited with ${child.exitCode}: ${out.slice(-2000)}`);
        const res = await fetch(`${url}/${opts.waitForReady === false ? 'healthz' : 'readyz'}`);
        return res.ok;
      },
      30_000,
    );
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const adminKey =
    opts.expectAdminKey === false ? '' : readFileSync(join(dataDir, 'admin.key'), 'utf8').trim();
  let stopped = false;
  const finish = async (signal: NodeJS.Signals, keepData: boolean) => {
    if (!stopped) {
      stopped = true;
      if (child.exitCode === null) child.kill(signal);
      await exited;
    }
    if (!keepData && !opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  return {
    url,
    port,
    dataDir,
    adminKey,
    output: () => out,
    stop: (o) => finish('SIGTERM', o?.keepData ?? false),
    kill: () => finish('SIGKILL', true),
  };
}

// biome-ignore lint/suspicious/noExplicitAny: answers are read field by field in tests and checked there.
export type Json = any;

/** A small typed client for the admin and validate APIs, as outside callers use them. */
export class Api {
  constructor(
    readonly url: string,
    readonly key: string,
  ) {}

  async call(
    method: string,
    path: string,
    body?: unknown,
    key = this.key,
  ): Promise<{ status: number; body: Json }> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: Json = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body: parsed };
  }

  async ok(method: string, path: string, body?: unknown): Promise<Json> {
    const r = await this.call(method, path, body);
    if (r.status >= 300) throw new Error(`${method} ${path} → ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  async createClient(
    kind: 'radius' | 'keycloak' | 'api' | 'node',
    extra: Record<string, unknown> = {},
  ): Promise<string> {
    const body = await this.ok('POST', '/v1/admin/clients', {
      name: `${kind}-${Date.now()}`,
      kind,
      ...extra,
    });
    return body.apiKey as string;
  }

  /** Creates a user with one TOTP token whose base32 secret is returned for computing codes. */
  async createUserWithTotp(
    username: string,
    opts: {
      pin?: string;
      secret?: string;
      user?: Record<string, unknown>;
      token?: Record<string, unknown>;
    } = {},
  ): Promise<{ serial: string; secret: string }> {
    const secret = opts.secret ?? randomBase32();
    await this.ok('POST', '/v1/admin/users', {
      username,
      ...(opts.pin ? { pin: opts.pin } : {}),
      ...opts.user,
    });
    const token = await this.ok('POST', `/v1/admin/users/${encodeURIComponent(username)}/tokens`, {
      type: 'totp',
      secret,
      ...opts.token,
    });
    return { serial: token.serial as string, secret };
  }
}

export function randomBase32(bytes = 20): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let out = '';
  for (let i = 0; i < Math.ceil((bytes * 8) / 5); i++) out += alphabet[Math.floor(Math.random() * 32)];
  return out;
}

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** Runs the `tessera` command (`node bin/tessera.mjs ...args`) as an operator would. */
export function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO_ROOT, 'bin/tessera.mjs'), ...args],
      { cwd: REPO_ROOT, env: { ...baseEnv(), TESSERA_LOG_LEVEL: 'warn', ...env }, timeout: 120_000 },
      (err, out, errOut) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        // Killed (the timeout): say so, with what it printed, instead of an empty error.
        const killed = err?.killed ? `killed by ${err.signal} after 120 s; it printed: ${String(out)}\n` : '';
        resolve({ code, out: String(out), err: `${killed}${String(errOut)}` });
      },
    );
  });
}
