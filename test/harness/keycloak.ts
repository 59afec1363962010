// A real Keycloak server for tests: the distribution from Maven Central, our jar in providers/, dev mode on loopback.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianPackages } from './debian.ts';
import { freePort, StopWaiting, waitFor } from './ports.ts';
import { REPO_ROOT } from './tessera.ts';

/** The newest release on Maven Central (runs on Java 17); KEYCLOAK_VERSION=24.0.5 etc. tests older lines. */
export const KEYCLOAK_VERSION = process.env.KEYCLOAK_VERSION ?? '26.7.3';
export const CACHE_DIR = join(homedir(), '.cache', 'tessera-test');
export const EXTENSION_DIR = join(REPO_ROOT, 'keycloak-extension');
export const EXTENSION_JAR = join(EXTENSION_DIR, 'target', 'tessera-keycloak.jar');

function javaHome(): string {
  if (process.env.JAVA_HOME) return process.env.JAVA_HOME;
  const debian = '/usr/lib/jvm/java-17-openjdk-amd64';
  if (existsSync(join(debian, 'bin', 'java'))) return debian;
  throw new Error('no JDK 17: install Debian openjdk-17-jdk-headless or set JAVA_HOME');
}

function run(cmd: string, args: string[], what: string, env: NodeJS.ProcessEnv = process.env): string {
  const res = spawnSync(cmd, args, { cwd: REPO_ROOT, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (res.error) throw new Error(`${what}: ${res.error.message}`);
  const out = `${res.stdout ?? ''}${res.stderr ?? ''}`;
  if (res.status !== 0) throw new Error(`${what} failed (exit ${res.status}):\n${out.slice(-6000)}`);
  return out;
}

export interface ExtensionBuild {
  jar: string;
  /** JUnit totals from the surefire reports of this build. */
  junit: { tests: number; failures: number; errors: number; skipped: number };
}

/** The newest modification time under the extension's sources and its pom. */
function newestSource(dir = join(EXTENSION_DIR, 'src')): number {
  let newest = statSync(join(EXTENSION_DIR, 'pom.xml')).mtimeMs;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * One build at a time across the test processes (the Keycloak test files run in parallel workers,
 * and a second `mvn clean` would delete the classes under the first one's JUnit run). The lock is a
 * directory, made atomically; one left by a killed run is taken over after ten minutes.
 */
function withBuildLock<T>(fn: () => T): T {
  const lock = join(EXTENSION_DIR, '.build-lock');
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 10 * 60_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`keycloak-extension build lock ${lock} held for 15 minutes`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * `mvn package` of keycloak-extension/: compiles, runs the JUnit suite, builds
 * target/tessera-keycloak.jar. A jar newer than every source is this run's (or an identical) build:
 * it is used as it is, with its JUnit reports.
 */
export function buildExtension(): ExtensionBuild {
  ensureDebianPackages(['maven', 'openjdk-17-jdk-headless']);
  return withBuildLock(() => {
    const jar = statSync(EXTENSION_JAR, { throwIfNoEntry: false });
    if (!jar || jar.mtimeMs <= newestSource())
      run(
        'mvn',
        ['-q', '-B', '-f', join(EXTENSION_DIR, 'pom.xml'), 'clean', 'package'],
        'mvn package of keycloak-extension',
        { ...process.env, JAVA_HOME: javaHome() },
      );
    if (!existsSync(EXTENSION_JAR)) throw new Error(`mvn package did not produce ${EXTENSION_JAR}`);
    return junitOf();
  });
}

function junitOf(): ExtensionBuild {
  const junit = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  const reports = join(EXTENSION_DIR, 'target', 'surefire-reports');
  for (const f of existsSync(reports) ? readdirSync(reports) : []) {
    if (!f.endsWith('.xml')) continue;
    const head = readFileSync(join(reports, f), 'utf8').slice(0, 2000);
    const suite = head.match(/<testsuite[^>]*>/)?.[0] ?? '';
    for (const k of Object.keys(junit) as (keyof typeof junit)[]) {
      junit[k] += Number(suite.match(new RegExp(`\\s${k}="(\\d+)"`))?.[1] ?? 0);
    }
  }
  return { jar: EXTENSION_JAR, junit };
}

/** The distribution tarball, fetched once through Maven into ~/.cache/tessera-test. */
export function keycloakDistribution(version = KEYCLOAK_VERSION): string {
  const tgz = join(CACHE_DIR, `keycloak-quarkus-dist-${version}.tar.gz`);
  if (existsSync(tgz)) return tgz;
  ensureDebianPackages(['maven']);
  mkdirSync(CACHE_DIR, { recursive: true });
  run(
    'mvn',
    [
      '-q',
      '-B',
      'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy',
      `-Dartifact=org.keycloak:keycloak-quarkus-dist:${version}:tar.gz`,
      `-DoutputDirectory=${CACHE_DIR}`,
    ],
    `download of org.keycloak:keycloak-quarkus-dist:${version}:tar.gz from Maven Central`,
  );
  if (!existsSync(tgz)) throw new Error(`Maven did not leave ${tgz}`);
  return tgz;
}

export interface KeycloakHandle {
  url: string;
  port: number;
  home: string;
  adminUser: string;
  adminPassword: string;
  version: string;
  /** Everything the server wrote, for failure messages and log assertions. */
  output(): string;
  stop(): Promise<void>;
}

export interface KeycloakOptions {
  /** Jars copied into providers/ before the first start. */
  providers?: string[];
  version?: string;
  /** Extra `kc.sh start-dev` options, e.g. --proxy-headers=xforwarded. */
  args?: string[];
  startTimeoutMs?: number;
}

/**
 * Unpacks a fresh Keycloak into a temp dir (so every run starts with an empty H2 database), copies
 * the provider jars in and runs `kc.sh start-dev` on free loopback ports with a bootstrap admin.
 */
export async function startKeycloak(opts: KeycloakOptions = {}): Promise<KeycloakHandle> {
  try {
    return await startKeycloakOnce(opts);
  } catch (err) {
    // Keycloak binds its ports only after half a minute of start-up; if another process took one
    // meanwhile, start over on new ports once.
    if (!/Port already bound|Address already in use/.test((err as Error).message)) throw err;
    return startKeycloakOnce(opts);
  }
}

async function startKeycloakOnce(opts: KeycloakOptions): Promise<KeycloakHandle> {
  const version = opts.version ?? KEYCLOAK_VERSION;
  const tgz = keycloakDistribution(version);
  const base = mkdtempSync(join(tmpdir(), 'tessera-keycloak-'));
  run('tar', ['-xzf', tgz, '-C', base], `unpacking ${tgz}`);
  const home = join(base, `keycloak-${version}`);
  for (const jar of opts.providers ?? []) copyFileSync(jar, join(home, 'providers', jar.split('/').pop()!));

  const major = Number(version.split('.')[0]);
  const port = await freePort();
  const mgmtPort = await freePort();
  const adminUser = 'admin';
  const adminPassword = `pw-${Math.random().toString(36).slice(2)}`;
  const child: ChildProcess = spawn(
    join(home, 'bin', 'kc.sh'),
    [
      'start-dev',
      '--http-host=127.0.0.1',
      `--http-port=${port}`,
      // The separate management port exists from 25 on; keep it off the default 9000.
      ...(major >= 25 ? [`--http-management-port=${mgmtPort}`] : []),
      '--cache=local',
      ...(opts.args ?? []),
    ],
    {
      cwd: home,
      detached: true,
      env: {
        ...process.env,
        JAVA_HOME: javaHome(),
        KC_BOOTSTRAP_ADMIN_USERNAME: adminUser,
        KC_BOOTSTRAP_ADMIN_PASSWORD: adminPassword,
        // Keycloak 24/25 only know the older names.
        ...(major < 26 ? { KEYCLOAK_ADMIN: adminUser, KEYCLOAK_ADMIN_PASSWORD: adminPassword } : {}),
        // Our extension logs at INFO/WARN/ERROR; keep it visible for assertions.
        KC_LOG_LEVEL: 'INFO',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  const append = (d: Buffer) => {
    out += d.toString();
    if (out.length > 4_000_000) out = out.slice(-2_000_000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  // kc.sh runs detached (its own process group); if the test process dies without after(), take Keycloak along.
  const killOnExit = () => {
    try {
      if (child.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  };
  process.once('exit', killOnExit);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', killOnExit);
    // For debugging a failed run: TESSERA_KEYCLOAK_LOG=/path keeps the server's output.
    if (process.env.TESSERA_KEYCLOAK_LOG) writeFileSync(process.env.TESSERA_KEYCLOAK_LOG, out);
    if (child.exitCode === null && child.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      const timer = setTimeout(() => {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }, 15_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(base, { recursive: true, force: true });
  };

  try {
    await waitFor(
      `Keycloak ${version} on ${url}`,
      async () => {
        if (child.exitCode !== null)
          throw new StopWaiting(`kc.sh exited with ${child.exitCode}:\n${out.slice(-4000)}`);
        const res = await fetch(`${url}/realms/master/.well-known/openid-configuration`);
        return res.ok;
      },
      opts.startTimeoutMs ?? 240_000,
      500,
    );
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n--- Keycloak output (tail) ---\n${out.slice(-4000)}`);
  }
  return { url, port, home, adminUser, adminPassword, version, output: () => out, stop };
}
