import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianPackages } from './debian.ts';
import { freeUdpPort, StopWaiting, waitFor } from './ports.ts';
import { REPO_ROOT } from './tessera.ts';

export const STOCK_RADDB = '/etc/freeradius/3.0';
export const FREERADIUS_PACKAGES = ['freeradius', 'freeradius-rest', 'freeradius-utils'];

/** rlm_always instances (ok, handled, reject...) plus what the Tessera site and the local site use. */
const KEEP_MODULES = ['always', 'expr', 'pap', 'attr_filter', 'tessera'];

export interface LocalUser {
  user: string;
  password: string;
}

export interface RaddbOptions {
  /** Shared secret of the single test client (127.0.0.1); random when absent. */
  secret?: string;
  /** Require Message-Authenticator from the client (BlastRADIUS); radclient helpers send one. */
  requireMessageAuthenticator?: boolean;
  /** Keep the stock 1 s delay on every Access-Reject (tests usually turn it off). */
  rejectDelay?: number;
  /** thread pool max_servers (stock 32): each request waiting on Tessera holds a thread. */
  maxServers?: number;
  /**
   * Adds a second virtual server that answers from a local `files` module, for comparing
   * throughput against the same FreeRADIUS without Tessera.
   */
  localUsers?: LocalUser[];
  /** Adds a third virtual server checking TOTP locally with rlm_totp (base32 secrets, no replay check). */
  localTotpUsers?: LocalTotpUser[];
}

export interface LocalTotpUser {
  user: string;
  base32Secret: string;
}

export interface Raddb {
  dir: string;
  secret: string;
  remove(): void;
}

function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function commentOutUserGroup(conf: string): string {
  return conf.replace(/^(\s*)(user|group)\s*=\s*freerad\s*$/gm, '$1#$2 = freerad');
}

function setRejectDelay(conf: string, seconds: number): string {
  return conf.replace(/^(\s*)reject_delay\s*=\s*\d+\s*$/m, `$1reject_delay = ${seconds}`);
}

function localSite(): string {
  return `# Test only: the same FreeRADIUS answering from its local files module (no Tessera).
files bench_files {
	filename = \${confdir}/bench-users
}
`;
}

function localTotpSite(): string {
  return `# Test only: FreeRADIUS checking TOTP itself (rlm_totp), for comparison.
files bench_totp_files {
	filename = \${confdir}/bench-totp-users
}
totp {
}
`;
}

function localTotpServer(): string {
  return `server localtotp {
	listen {
		type = auth
		ipaddr = *
		port = $ENV{TESSERA_LOCAL_TOTP_RADIUS_PORT}
	}
	authorize {
		bench_totp_files
		update request {
			&TOTP-Password := &User-Password
		}
		update control {
			&Auth-Type := totp
		}
	}
	authenticate {
		Auth-Type totp {
			totp
		}
	}
}
`;
}

function localServer(): string {
  return `server local {
	listen {
		type = auth
		ipaddr = *
		port = $ENV{TESSERA_LOCAL_RADIUS_PORT}
	}
	authorize {
		bench_files
		pap
	}
	authenticate {
		Auth-Type PAP {
			pap
		}
	}
	post-auth {
		Post-Auth-Type REJECT {
			attr_filter.access_reject
		}
	}
}
`;
}

/**
 * A copy of the stock FreeRADIUS tree with our freeradius-config installed by install.sh, reduced
 * to what the Tessera site needs and made runnable by the invoking user from a temp dir.
 */
export function prepareRaddb(opts: RaddbOptions = {}): Raddb {
  ensureDebianPackages(FREERADIUS_PACKAGES);
  const dir = mkdtempSync(join(tmpdir(), 'tessera-raddb-'));
  cpSync(STOCK_RADDB, dir, { recursive: true, verbatimSymlinks: true });
  const install = spawnSync('sh', [join(REPO_ROOT, 'freeradius-config/install.sh'), dir], {
    encoding: 'utf8',
  });
  if (install.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `freeradius-config/install.sh failed (${install.status}): ${install.stderr}${install.stdout}`,
    );
  }
  // The stock sites listen on 1812/1813/18120; only ours may run here.
  for (const site of readdirSync(join(dir, 'sites-enabled'))) {
    if (site !== 'tessera') unlinkSync(join(dir, 'sites-enabled', site));
  }
  // Stock modules such as eap or unix want certificates and system files a test does not need.
  for (const mod of readdirSync(join(dir, 'mods-enabled'))) {
    if (!KEEP_MODULES.includes(mod)) unlinkSync(join(dir, 'mods-enabled', mod));
  }
  const radiusd = join(dir, 'radiusd.conf');
  writeFileSync(
    radiusd,
    setRejectDelay(commentOutUserGroup(readFileSync(radiusd, 'utf8')), opts.rejectDelay ?? 0),
  );

  const secret = opts.secret ?? randomBytes(12).toString('hex');
  writeFileSync(
    join(dir, 'clients.conf'),
    `client localhost {
	ipaddr = 127.0.0.1
	secret = ${quote(secret)}
	require_message_authenticator = ${opts.requireMessageAuthenticator === false ? 'no' : 'yes'}
	nas_type = other
}
`,
  );
  if (opts.localUsers) {
    writeFileSync(join(dir, 'mods-enabled', 'bench_files'), localSite());
    writeFileSync(join(dir, 'sites-enabled', 'local'), localServer());
    writeFileSync(
      join(dir, 'bench-users'),
      opts.localUsers.map((u) => `${quote(u.user)}\tCleartext-Password := ${quote(u.password)}\n`).join(''),
    );
  }
  if (opts.localTotpUsers) {
    writeFileSync(join(dir, 'mods-enabled', 'bench_totp'), localTotpSite());
    writeFileSync(join(dir, 'sites-enabled', 'localtotp'), localTotpServer());
    writeFileSync(
      join(dir, 'bench-totp-users'),
      opts.localTotpUsers.map((u) => `${quote(u.user)}\tTOTP-Secret := ${quote(u.base32Secret)}\n`).join(''),
    );
  }
  return { dir, secret, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface FreeRadiusEnv {
  tesseraUrl: string;
  apiKey: string;
  port: number;
  localPort?: number;
  localTotpPort?: number;
}

function radiusEnv(e: FreeRadiusEnv): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TESSERA_URL: e.tesseraUrl,
    TESSERA_API_KEY: e.apiKey,
    TESSERA_RADIUS_PORT: String(e.port),
    ...(e.localPort ? { TESSERA_LOCAL_RADIUS_PORT: String(e.localPort) } : {}),
    ...(e.localTotpPort ? { TESSERA_LOCAL_TOTP_RADIUS_PORT: String(e.localTotpPort) } : {}),
  };
}

/** Secrets never leave the harness, not even in a failure message. */
function redactor(secrets: string[]): (s: string) => string {
  const live = secrets.filter((s) => s.length >= 4);
  return (s) => live.reduce((acc, secret) => acc.split(secret).join('<redacted>'), s);
}

/** `freeradius -XC`: parses and instantiates the whole configuration, then exits. */
export function checkConfig(raddb: string, env: FreeRadiusEnv): { ok: boolean; output: string } {
  const r = spawnSync('freeradius', ['-XC', '-d', raddb], { env: radiusEnv(env), encoding: 'utf8' });
  const output = redactor([env.apiKey])(`${r.stdout}${r.stderr}`);
  return { ok: r.status === 0 && /Configuration appears to be OK/.test(output), output };
}

export interface FreeRadiusOptions extends RaddbOptions {
  tesseraUrl: string;
  apiKey: string;
  /** -X (debug, single-threaded) when true (default); -f -l stdout (threaded) for benchmarks. */
  debug?: boolean;
}

export interface FreeRadiusHandle {
  port: number;
  /** The radiusd process (for its CPU time in benchmarks). */
  pid: number;
  /** Port of the local `files` server, when localUsers was given. */
  localPort?: number;
  /** Port of the local rlm_totp server, when localTotpUsers was given. */
  localTotpPort?: number;
  secret: string;
  raddb: string;
  /** What the server printed, with the API key and shared secret removed. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts a real FreeRADIUS with the shipped Tessera config on free UDP ports. */
export async function startFreeRadius(opts: FreeRadiusOptions): Promise<FreeRadiusHandle> {
  const raddb = prepareRaddb(opts);
  const port = await freeUdpPort();
  const localPort = opts.localUsers ? await freeUdpPort() : undefined;
  const localTotpPort = opts.localTotpUsers ? await freeUdpPort() : undefined;
  const env: FreeRadiusEnv = {
    tesseraUrl: opts.tesseraUrl,
    apiKey: opts.apiKey,
    port,
    ...(localPort ? { localPort } : {}),
    ...(localTotpPort ? { localTotpPort } : {}),
  };
  const args = opts.debug === false ? ['-f', '-l', 'stdout', '-d', raddb.dir] : ['-X', '-d', raddb.dir];
  const child: ChildProcess = spawn('freeradius', args, {
    env: radiusEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const redact = redactor([opts.apiKey, raddb.secret]);
  // -X prints every request; keep only the tail so a long run cannot exhaust memory.
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 4_000_000) out = out.slice(-2_000_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let stopped = false;
  const stop = async () => {
    if (!stopped) {
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    }
    raddb.remove();
  };
  try {
    await waitFor(
      `FreeRADIUS on udp/${port}`,
      async () => {
        if (child.exitCode !== null)
          throw new StopWaiting(`freeradius exited with ${child.exitCode}: ${redact(out.slice(-3000))}`);
        return /Ready to process requests/.test(out);
      },
      20_000,
      50,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    port,
    pid: child.pid ?? 0,
    ...(localPort ? { localPort } : {}),
    ...(localTotpPort ? { localTotpPort } : {}),
    secret: raddb.secret,
    raddb: raddb.dir,
    output: () => redact(out),
    stop,
  };
}

/** The installed FreeRADIUS version, e.g. "3.2.1". */
export function freeradiusVersion(): string {
  if (!existsSync('/usr/sbin/freeradius')) return 'missing';
  const v = execFileSync('freeradius', ['-v'], { encoding: 'utf8' });
  return /Version (\d+\.\d+\.\d+)/.exec(v)?.[1] ?? 'unknown';
}
