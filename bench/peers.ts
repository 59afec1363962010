// `npm run bench -- --peers`: Tessera beside privacyIDEA on this machine. privacyIDEA (PyPI) is
// installed once into a virtual environment under ~/.cache/tessera-bench, set up with SQLite and
// its own audit on as shipped, and served by gunicorn with one worker per core. The same TOTP
// tokens (the bench seed) are enrolled in both; the same wrk script drives both with fresh codes,
// runs alternated. Also privacyIDEA's best case here: audit off, SQLite on tmpfs.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_SECRET_BYTES } from './codes.ts';
import { type ServerProcess, startServer } from './procs.ts';
import { range, ratio, SECONDS, Slices, USERS_PER_RUN } from './validate.ts';
import { ensureWrk, runWrk, WRK_CONNECTIONS, type WrkFigures, type WrkTarget } from './wrk.ts';

const PI_VERSION = process.env.BENCH_PRIVACYIDEA_VERSION ?? '3.14';
const CACHE = join(homedir(), '.cache', 'tessera-bench');
const VENV = join(CACHE, `privacyidea-${PI_VERSION}`);
const PI_ROUNDS = Number(process.env.BENCH_PEERS_ROUNDS ?? 2);
/**
 * Three fresh codes per token and run: 600 tokens cover up to 180 accepts/s for 10 s. On a quiet
 * machine privacyIDEA answered more than 45/s, which used up the 150 tokens this once had.
 */
const PI_TOKENS_PER_RUN = Number(process.env.BENCH_PEERS_TOKENS_PER_RUN ?? 600);
/** gunicorn's sync workers answer one request each at a time: more connections only queue. */
const PI_CONNECTIONS = 2 * cpus().length;
const PI_SECONDS = Math.max(SECONDS, 10);

function ensureVenv(): void {
  if (existsSync(join(VENV, 'bin', 'gunicorn')) && existsSync(join(VENV, 'bin', 'pi-manage'))) return;
  mkdirSync(CACHE, { recursive: true });
  execFileSync('python3', ['-m', 'venv', VENV], { stdio: 'pipe' });
  execFileSync(join(VENV, 'bin', 'pip'), ['install', '-q', `privacyidea==${PI_VERSION}`, 'gunicorn'], {
    stdio: 'pipe',
    timeout: 900_000,
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

interface PiServer {
  port: number;
  stop(): Promise<void>;
}

async function startPrivacyIdea(dir: string, audit: boolean, tokens: number): Promise<PiServer> {
  const cfg = join(dir, 'pi.cfg');
  const py = (s: string) => `'${s.replace(/'/g, "\\'")}'`;
  writeFileSync(
    cfg,
    [
      `SQLALCHEMY_DATABASE_URI = ${py(`sqlite:///${join(dir, 'pi.sqlite')}`)}`,
      `SECRET_KEY = ${py(randomBytes(24).toString('hex'))}`,
      `PI_PEPPER = ${py(randomBytes(24).toString('hex'))}`,
      `PI_ENCFILE = ${py(join(dir, 'enckey'))}`,
      `PI_AUDIT_KEY_PRIVATE = ${py(join(dir, 'private.pem'))}`,
      `PI_AUDIT_KEY_PUBLIC = ${py(join(dir, 'public.pem'))}`,
      `PI_LOGFILE = ${py(join(dir, 'privacyidea.log'))}`,
      'PI_LOGLEVEL = 30',
      ...(audit ? [] : [`PI_AUDIT_MODULE = 'privacyidea.lib.auditmodules.base'`]),
      '',
    ].join('\n'),
  );
  const env = { ...process.env, PRIVACYIDEA_CONFIGFILE: cfg };
  const manage = (...args: string[]) =>
    execFileSync(join(VENV, 'bin', 'pi-manage'), args, { env, stdio: 'pipe', cwd: dir });
  manage('setup', 'create_enckey');
  manage('setup', 'create_audit_keys');
  manage('setup', 'create_tables');
  // Enrolled through privacyIDEA's own library (init_token), as token/init does, without the
  // HTTP round trip per token.
  execFileSync(
    join(VENV, 'bin', 'python'),
    [
      '-c',
      [
        'import sys',
        'from privacyidea.app import create_app',
        'from privacyidea.lib.token import init_token',
        'app = create_app(config_name="production", config_file=sys.argv[1], silent=True)',
        'with app.app_context():',
        '    for i in range(int(sys.argv[2])):',
        '        init_token({"type": "totp", "serial": "PIU%d" % i, "otpkey": sys.argv[3], "genkey": 0, "otplen": 6, "hashlib": "sha1", "timeStep": 30})',
      ].join('\n'),
      cfg,
      String(tokens),
      Buffer.from(BENCH_SECRET_BYTES).toString('hex'),
    ],
    { env, stdio: 'pipe', cwd: dir, timeout: 600_000 },
  );
  const port = await freePort();
  const child: ChildProcess = spawn(
    join(VENV, 'bin', 'gunicorn'),
    [
      '-w',
      String(cpus().length),
      '-b',
      `127.0.0.1:${port}`,
      '--log-level',
      'warning',
      `privacyidea.app:create_app(config_name='production', config_file='${cfg}', silent=True)`,
    ],
    { env, cwd: dir, stdio: 'ignore' },
  );
  process.once('exit', () => child.kill('SIGKILL'));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const up = await fetch(`${base}/`).then(
      (r) => r.status > 0,
      () => false,
    );
    if (up) break;
    if (child.exitCode !== null || i > 240) throw new Error('privacyIDEA (gunicorn) did not start');
    await new Promise((r) => setTimeout(r, 500));
  }
  return {
    port,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

function piSlices(port: number, count: number): () => WrkTarget {
  let next = 0;
  return () => {
    if (next + PI_TOKENS_PER_RUN > count) throw new Error('privacyIDEA bench tokens used up');
    const t = {
      port,
      apiKey: '',
      path: '/validate/check',
      userField: 'serial',
      acceptMarker: '"authentication": "ACCEPT"',
      prefix: 'PIU',
      first: next,
      users: PI_TOKENS_PER_RUN,
    };
    next += PI_TOKENS_PER_RUN;
    return t;
  };
}

export async function benchPeers(): Promise<Record<string, unknown>> {
  ensureWrk();
  ensureVenv();
  const runs = PI_ROUNDS + 1;
  const tokens = PI_TOKENS_PER_RUN * runs;
  const work = mkdtempSync(join(CACHE, 'run-'));
  const shm = existsSync('/dev/shm')
    ? mkdtempSync('/dev/shm/tessera-bench-pi-')
    : mkdtempSync(join(tmpdir(), 'pi-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-bench-node-'));
  let node: ServerProcess | undefined;
  const pis: PiServer[] = [];
  try {
    const shipped = await startPrivacyIdea(work, true, tokens);
    pis.push(shipped);
    const best = await startPrivacyIdea(shm, false, tokens);
    pis.push(best);
    node = await startServer({
      kind: 'tessera',
      env: { TESSERA_DATA_DIR: dataDir },
      population: { prefix: 'u', count: USERS_PER_RUN * runs },
    });
    const targets = {
      tessera: (
        (s: Slices) => () =>
          s.take()
      )(new Slices(node, 'u', USERS_PER_RUN * runs)),
      shipped: piSlices(shipped.port, tokens),
      best: piSlices(best.port, tokens),
    };
    type Name = keyof typeof targets;
    const options = (name: Name) =>
      name === 'tessera' ? { seconds: SECONDS } : { seconds: PI_SECONDS, connections: PI_CONNECTIONS };
    for (const name of ['tessera', 'shipped', 'best'] as Name[])
      await runWrk(targets[name](), { ...options(name), seconds: 3 });
    const rounds: Record<Name, WrkFigures>[] = [];
    for (let r = 0; r < PI_ROUNDS; r++) {
      const order: Name[] = r % 2 === 0 ? ['tessera', 'shipped', 'best'] : ['best', 'shipped', 'tessera'];
      const round = {} as Record<Name, WrkFigures>;
      for (const name of order) {
        round[name] = await runWrk(targets[name](), options(name));
        if (round[name].accepts === 0) throw new Error(`${name}: no accept in ${round[name].seconds} s`);
      }
      rounds.push(round);
    }
    const per = (f: (r: Record<Name, WrkFigures>) => number) => range(rounds.map(f));
    const latency = (name: Name) => ({
      p50ms: per((r) => r[name].p50ms).median,
      p99ms: per((r) => r[name].p99ms).median,
    });
    return {
      load: `wrk -t1; Tessera ${WRK_CONNECTIONS} connections for ${SECONDS} s, privacyIDEA ${PI_CONNECTIONS} for ${PI_SECONDS} s`,
      what: `Tessera POST /v1/validate (embedded store, as shipped) vs privacyIDEA ${PI_VERSION} POST /validate/check by serial (gunicorn, ${cpus().length} workers, SQLite): accepted TOTP codes per second, same tokens, same wrk script, runs alternated`,
      acceptsPerSecond: {
        tessera: per((r) => r.tessera.acceptsPerSecond),
        privacyIdeaShipped: per((r) => r.shipped.acceptsPerSecond),
        privacyIdeaBestCase: per((r) => r.best.acceptsPerSecond),
      },
      latencyMs: {
        tessera: latency('tessera'),
        privacyIdeaShipped: latency('shipped'),
        privacyIdeaBestCase: latency('best'),
      },
      ratios: {
        tesseraToPrivacyIdeaShipped: per((r) =>
          ratio(r.tessera.acceptsPerSecond, r.shipped.acceptsPerSecond),
        ),
        tesseraToPrivacyIdeaBestCase: per((r) => ratio(r.tessera.acceptsPerSecond, r.best.acceptsPerSecond)),
      },
      note: 'privacyIDEA shipped: SQLite on disk, its SQL audit on (signed entries); best case: audit module off (base), SQLite on tmpfs. privacyIDEA is checked by token serial, which skips its user resolver: its cheapest path.',
      runs: rounds,
      aim: 'tesseraToPrivacyIdeaShipped >= 100',
    };
  } finally {
    for (const p of pis) await p.stop();
    await node?.stop();
    for (const d of [work, shm, dataDir]) rmSync(d, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(await benchPeers(), null, 2)}\n`);
}
