import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { arch, hostname, platform, release } from 'node:os';
import { basename, join } from 'node:path';
import { clusterStatus } from '../../cluster/index.ts';
import { type Config, loadConfig, tesseraVariables } from '../../server/config.ts';
import { configReport, formatReport } from '../../server/config-report.ts';
import { VERSION } from '../../version.ts';
import { parse, print, withServices } from '../context.ts';
import { knownSecrets, scrub } from './support-secrets.ts';
import { type TarEntry, tarGz } from './tar.ts';

const USAGE =
  'usage: tessera support bundle [--out FILE] [--log FILE]... [--url http://HOST:PORT] [--lines N]\n' +
  '\n' +
  'Writes one .tar.gz to send with a support request: versions, the effective configuration\n' +
  "(secrets masked, as `tessera config`), cluster status, the node's recent events, /readyz and\n" +
  '/metrics of the running node (--url, default TESSERA_HOST:TESSERA_PORT), the last lines of each\n' +
  '--log file, and a listing of the data directory (names, sizes, modes; never contents). It holds\n' +
  'no seed, key or passphrase: none is read into it, and any that a log line carries is masked.\n';

const DEPENDENCIES = ['fastify', 'lmdb', 'ioredis', 'pino', 'ldapts'];

function depVersion(name: string): string {
  try {
    const url = new URL(`../../../node_modules/${name}/package.json`, import.meta.url);
    return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

function tool(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', timeout: 3000, stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')[0]!
      .trim();
  } catch {
    return 'not found';
  }
}

function versions(): string {
  return JSON.stringify(
    {
      tessera: VERSION,
      node: process.version,
      os: `${platform()} ${release()} ${arch()}`,
      dependencies: Object.fromEntries(DEPENDENCIES.map((d) => [d, depVersion(d)])),
      'redis-server': tool('redis-server', ['--version']),
      freeradius: tool('freeradius', ['-v']),
    },
    null,
    2,
  );
}

/** Names, sizes and modes under the data directory (two levels), never a file's content. */
function dataDirListing(dir: string): string {
  const lines: string[] = [];
  const walk = (path: string, depth: number) => {
    let names: string[];
    try {
      names = readdirSync(path).sort();
    } catch (err) {
      lines.push(`${path}: ${(err as Error).message}`);
      return;
    }
    for (const name of names) {
      const full = join(path, name);
      const st = statSync(full, { throwIfNoEntry: false });
      if (!st) continue;
      lines.push(
        `${(st.mode & 0o777).toString(8).padStart(4, '0')} ${String(st.size).padStart(12)} ${st.mtime.toISOString()} ${full}${st.isDirectory() ? '/' : ''}`,
      );
      if (st.isDirectory() && depth < 2) walk(full, depth + 1);
    }
  };
  walk(dir, 0);
  return `${lines.join('\n')}\n`;
}

async function fetchText(url: string): Promise<string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return `HTTP ${res.status}\n${await res.text()}`;
  } catch (err) {
    return `not reached: ${(err as Error).message}`;
  }
}

/** What the store says: cluster status and the node's recent events (failovers, snapshots, starts). */
async function fromStore(config: Config): Promise<{ status: string; events: string }> {
  // Opening an empty data directory would create a store and keys: a bundle changes nothing.
  if (!config.redisUrl && !config.sentinels && !existsSync(join(config.dataDir, 'store'))) {
    const text = `no store in ${config.dataDir} (TESSERA_DATA_DIR) and no Redis configured`;
    return { status: text, events: text };
  }
  try {
    return await withServices(async (s) => {
      const status = await clusterStatus({
        store: s.store,
        replication: s.replication,
        heartbeatMs: s.config.cluster.heartbeatMs,
      });
      const events = await s.store.listAudit(500, 'event');
      return {
        status: JSON.stringify(status, null, 2),
        events: events.map((e) => JSON.stringify(e)).join('\n'),
      };
    });
  } catch (err) {
    const text = `the store was not reached: ${(err as Error).message}`;
    return { status: text, events: text };
  }
}

function tail(path: string, lines: number): string {
  try {
    const text = readFileSync(path, 'utf8');
    const all = text.split('\n');
    return all.slice(Math.max(0, all.length - lines - 1)).join('\n');
  } catch (err) {
    return `not read: ${(err as Error).message}`;
  }
}

function nodeUrl(config: Config, given: string | undefined): string {
  if (given) return given.replace(/\/$/, '');
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    out: { type: 'string' },
    log: { type: 'string', multiple: true },
    url: { type: 'string' },
    lines: { type: 'string' },
  });
  if (positionals[0] !== 'bundle' || positionals.length > 1) {
    process.stderr.write(USAGE);
    return 2;
  }
  const config = loadConfig();
  const { set, unknown } = tesseraVariables();
  const lines = Number(values.lines ?? 2000);
  if (!Number.isInteger(lines) || lines < 1) throw new Error('--lines must be a positive whole number');
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const out = values.out ?? `tessera-support-${hostname()}-${stamp}.tar.gz`;
  const url = nodeUrl(config, values.url);
  const store = await fromStore(config);
  const raw: TarEntry[] = [];
  const add = (name: string, text: string) =>
    raw.push({ name: `tessera-support/${name}`, data: Buffer.from(text) });
  add('versions.json', versions());
  add('config.txt', `${formatReport(configReport(config, set), unknown)}\n`);
  add('cluster-status.json', store.status);
  add('events.jsonl', store.events);
  add('readyz.txt', await fetchText(`${url}/readyz`));
  add('metrics.txt', await fetchText(`${url}/metrics`));
  add('data-dir.txt', dataDirListing(config.dataDir));
  for (const [i, path] of (values.log ?? []).entries())
    add(`logs/${i + 1}-${basename(path)}`.slice(0, 100), tail(path, lines));

  const secrets = knownSecrets(config);
  let masked = 0;
  const entries = raw.map((e) => {
    const r = scrub(e.data.toString('utf8'), secrets);
    masked += r.masked;
    return { ...e, data: Buffer.from(r.text) };
  });
  entries.unshift({
    name: 'tessera-support/README.txt',
    data: Buffer.from(
      `Tessera support bundle, ${new Date().toISOString()}, host ${hostname()}, Tessera ${VERSION}\n` +
        'Holds no seed, key or passphrase: configuration secrets are masked, key files are listed, never read in.\n' +
        `Secrets found in the gathered text and masked: ${masked}\n`,
    ),
  });
  writeFileSync(`${out}.tmp`, tarGz(entries), { mode: 0o600 });
  renameSync(`${out}.tmp`, out);
  print(
    `wrote ${out}: ${entries.length} files (${entries.map((e) => e.name.replace('tessera-support/', '')).join(', ')})`,
  );
  if (masked) print(`masked ${masked} secret(s) found in logs or listings`);
  return 0;
}
