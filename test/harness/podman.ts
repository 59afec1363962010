// A container engine for tests: Debian's podman as root, offering the Docker API on a unix socket,
// and locally built base images (no image registry is reachable here).
import { type SpawnSyncOptions, spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ensureDebianPackages } from './debian.ts';
import { waitFor } from './ports.ts';
import { REPO_ROOT } from './tessera.ts';

// dnsname: containers on a network find each other by name (podman 4.3 on Debian uses CNI)
export const ENGINE_PACKAGES = [
  'podman',
  'runc',
  'uidmap',
  'slirp4netns',
  'fuse-overlayfs',
  'debootstrap',
  'golang-github-containernetworking-plugin-dnsname',
];
/** Outside the repository: survives fresh clones, so only the first run on a machine debootstraps. */
export const IMAGE_CACHE = process.env.TESSERA_IMAGE_CACHE ?? '/var/cache/tessera-images';
const STATE_DIR = '/var/lib/tessera-podman';
export const CONTAINERS_CONF = join(STATE_DIR, 'containers.conf');
export const SOCKET = '/run/tessera-podman/podman.sock';
export const DOCKER_HOST = `unix://${SOCKET}`;

/** The imported debootstrap tree (Debian packages are installed on top of it). */
export const DEBIAN_IMAGE = 'localhost/tessera-debian:bookworm';
/** DEBIAN_IMAGE plus this machine's Node 20: the Dockerfile's BASE_IMAGE here. */
export const NODE_IMAGE = 'localhost/tessera-node:20';
export const TESSERA_IMAGE = 'localhost/tessera:test';

// crun refuses this machine's cgroup layout; root lacks CAP_SYS_RESOURCE, so ulimits must be explicit.
// Written to our own file (CONTAINERS_CONF) rather than /etc, so the host's podman settings stay as they are.
const CONF = `[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
runtime = "runc"
`;

/** The environment every podman invocation gets: our containers.conf. */
export function podmanEnv(): NodeJS.ProcessEnv {
  return { ...process.env, CONTAINERS_CONF };
}

/** Runs the podman CLI; throws with its output on failure. */
export function podman(args: string[], opts: SpawnSyncOptions & { what?: string } = {}): string {
  const res = spawnSync('podman', args, {
    env: podmanEnv(),
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    ...opts,
  });
  if (res.error) throw new Error(`${opts.what ?? `podman ${args[0]}`}: ${res.error.message}`);
  const out = `${res.stdout ?? ''}${res.stderr ?? ''}`;
  if (res.status !== 0) {
    throw new Error(
      `${opts.what ?? `podman ${args.join(' ')}`} failed (exit ${res.status}):\n${out.slice(-8000)}`,
    );
  }
  return String(res.stdout ?? '');
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * One holder at a time across test processes (vitest forks), for steps that must not run twice at
 * once: starting the service, importing or building a base image.
 */
async function withLock<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
  mkdirSync(STATE_DIR, { recursive: true });
  const dir = join(STATE_DIR, `${name}.lock`);
  const deadline = Date.now() + 20 * 60_000;
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'pid'), String(process.pid));
      break;
    } catch {
      let holder = 0;
      try {
        holder = Number(readFileSync(join(dir, 'pid'), 'utf8'));
      } catch {}
      if (holder > 0 && !alive(holder)) rmSync(dir, { recursive: true, force: true });
      else if (holder === 0 && Date.now() - statMtime(dir) > 10_000)
        rmSync(dir, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`waited 20 min for the lock ${dir}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function statMtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Date.now();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** GET over the API socket; resolves to the status and body, or rejects if nothing answers. */
export function apiGet(path: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: SOCKET, path, method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function serviceAnswers(): Promise<boolean> {
  try {
    return (await apiGet('/_ping')).body.trim() === 'OK';
  } catch {
    return false;
  }
}

/** The pids of our `podman system service` (the one serving SOCKET). */
function servicePids(): number[] {
  const out =
    spawnSync('pgrep', ['-f', `podman system service .*${SOCKET}`], { encoding: 'utf8' }).stdout ?? '';
  return out
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((pid) => pid > 0);
}

/**
 * Whether the running service was started in a directory that is gone (an earlier run's checkout,
 * deleted since): it still answers, but cannot start a container.
 */
function serviceLostItsDirectory(): boolean {
  return servicePids().some((pid) => {
    try {
      return readlinkSync(`/proc/${pid}/cwd`).endsWith(' (deleted)');
    } catch {
      return false;
    }
  });
}

function stopService(): void {
  for (const pid of servicePids()) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone already
    }
  }
  for (let i = 0; i < 50 && servicePids().length > 0; i++) spawnSync('sleep', ['0.1']);
}

export interface Engine {
  /** `unix:///...`: what DOCKER_HOST must say for testcontainers and docker-compatible clients. */
  dockerHost: string;
  socket: string;
}

let ready: Promise<Engine> | undefined;

/**
 * Installs podman (Debian packages, as root), writes our containers.conf, starts `podman system
 * service` on a socket (left running for later test files and runs) and points testcontainers at it:
 * DOCKER_HOST, no Ryuk (its image would come from a registry), and 127.0.0.1 as the host to reach
 * published ports (never the engine's bridge address). Throws naming what is missing where it cannot.
 */
export function ensureEngine(): Promise<Engine> {
  ready ??= startEngine();
  return ready;
}

async function startEngine(): Promise<Engine> {
  if (!isRoot()) {
    throw new Error(
      'the container tests need root: Debian podman runs rootful here (rootless lacks subuid mappings and cgroup delegation)',
    );
  }
  ensureDebianPackages(ENGINE_PACKAGES);
  mkdirSync(STATE_DIR, { recursive: true });
  if (!existsSync(CONTAINERS_CONF) || readFileSync(CONTAINERS_CONF, 'utf8') !== CONF)
    writeFileSync(CONTAINERS_CONF, CONF);
  await withLock('service', async () => {
    if (await serviceAnswers()) {
      if (!serviceLostItsDirectory()) return;
      stopService();
    }
    mkdirSync(dirname(SOCKET), { recursive: true });
    rmSync(SOCKET, { force: true });
    const log = openSync(join(STATE_DIR, 'service.log'), 'a');
    const child = spawn('podman', ['system', 'service', '--time=0', DOCKER_HOST], {
      env: podmanEnv(),
      // not the checkout: the service outlives this run, and its container monitors (conmon) start in
      // its directory; a checkout deleted later fails every container start ("write child: broken pipe")
      cwd: STATE_DIR,
      detached: true,
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    let exited: string | undefined;
    child.once('exit', (code, signal) => {
      exited = `exit ${code ?? signal}`;
    });
    child.unref();
    try {
      await waitFor(
        `podman system service on ${SOCKET}`,
        async () => {
          if (exited) throw new Error(exited);
          return serviceAnswers();
        },
        30_000,
        200,
      );
    } catch (err) {
      const tail = readFileSync(join(STATE_DIR, 'service.log'), 'utf8').slice(-3000);
      throw new Error(
        `the container engine did not start: podman system service gave no Docker API on ${SOCKET} (${(err as Error).message}).\n${tail}`,
      );
    }
  });
  process.env.DOCKER_HOST = DOCKER_HOST;
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  process.env.TESTCONTAINERS_HOST_OVERRIDE = '127.0.0.1';
  return { dockerHost: DOCKER_HOST, socket: SOCKET };
}

function imageExists(ref: string): boolean {
  return spawnSync('podman', ['image', 'exists', ref], { env: podmanEnv() }).status === 0;
}

/**
 * Debian bookworm (minbase) as an image: debootstrapped once into IMAGE_CACHE as a tarball, then
 * imported. A later run finds the image (or at least the tarball) and skips both.
 */
export async function ensureDebianImage(): Promise<string> {
  await ensureEngine();
  return withLock('debian-image', () => {
    if (imageExists(DEBIAN_IMAGE)) return DEBIAN_IMAGE;
    mkdirSync(IMAGE_CACHE, { recursive: true });
    const tarball = join(IMAGE_CACHE, 'debian-bookworm-minbase.tar');
    if (!existsSync(tarball)) {
      const root = mkdtempSync(join(IMAGE_CACHE, 'rootfs-'));
      try {
        const mirror = process.env.TESSERA_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
        run('debootstrap', ['--variant=minbase', 'bookworm', root, mirror], 'debootstrap of Debian bookworm');
        // apt's package lists and downloaded .debs are rebuilt by any later apt-get update
        rmSync(join(root, 'var/cache/apt/archives'), { recursive: true, force: true });
        mkdirSync(join(root, 'var/cache/apt/archives/partial'), { recursive: true });
        run(
          'tar',
          ['-C', root, '--numeric-owner', '-cf', `${tarball}.part`, '.'],
          'tar of the debootstrap tree',
        );
        run('mv', [`${tarball}.part`, tarball], 'mv');
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    }
    podman(['import', '--change', 'CMD ["/bin/bash"]', tarball, DEBIAN_IMAGE], {
      what: `podman import of ${tarball}`,
    });
    return DEBIAN_IMAGE;
  });
}

function run(cmd: string, args: string[], what: string): void {
  const res = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (res.error) throw new Error(`${what}: ${res.error.message}`);
  if (res.status !== 0)
    throw new Error(`${what} failed (exit ${res.status}):\n${`${res.stdout}${res.stderr}`.slice(-4000)}`);
}

/**
 * The Node that runs these tests, copied into the Debian image under /usr/local (where the official
 * node images keep it): with no registry, this machine's own Node 20 is the only one at hand, and
 * the image then runs exactly the version the suite was tested with.
 */
export async function ensureNodeImage(): Promise<string> {
  const debian = await ensureDebianImage();
  return withLock('node-image', () => {
    if (imageExists(NODE_IMAGE)) return NODE_IMAGE;
    const major = Number(process.versions.node.split('.')[0]);
    if (major !== 20) throw new Error(`the image needs Node 20; this machine runs ${process.version}`);
    const node = realpathSync(process.execPath);
    const prefix = dirname(dirname(node));
    const npm = join(prefix, 'lib', 'node_modules', 'npm');
    if (!existsSync(join(npm, 'bin', 'npm-cli.js')))
      throw new Error(`no npm beside ${node} (looked in ${npm}); the build stage needs npm`);
    const ctx = mkdtempSync(join(tmpdir(), 'tessera-node-image-'));
    try {
      mkdirSync(join(ctx, 'usr/local/bin'), { recursive: true });
      mkdirSync(join(ctx, 'usr/local/lib/node_modules'), { recursive: true });
      cpSync(node, join(ctx, 'usr/local/bin/node'));
      cpSync(npm, join(ctx, 'usr/local/lib/node_modules/npm'), { recursive: true });
      symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(ctx, 'usr/local/bin/npm'));
      symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(ctx, 'usr/local/bin/npx'));
      writeFileSync(
        join(ctx, 'Containerfile'),
        `FROM ${debian}\nCOPY usr /usr\nRUN node --version && npm --version\nCMD ["node"]\n`,
      );
      podman(['build', '--format', 'docker', '-t', NODE_IMAGE, ctx], {
        what: 'podman build of the Node image',
      });
    } finally {
      rmSync(ctx, { recursive: true, force: true });
    }
    return NODE_IMAGE;
  });
}

export interface BuiltImage {
  ref: string;
  /** Bytes, as the engine counts them (uncompressed layers). */
  size: number;
  buildMs: number;
}

function npmConfig(key: string): string | undefined {
  const res = spawnSync('npm', ['config', 'get', key], { encoding: 'utf8' });
  const value = res.stdout?.trim();
  return res.status === 0 && value && value !== 'null' && value !== 'undefined' ? value : undefined;
}

/**
 * `npm ci` in the build containers as this machine's npm does it: from its cache first (a warm
 * build downloads nothing) and trusting the CA file this machine's npm is configured with, if any.
 */
function npmBuildArgs(): string[] {
  const cache = npmConfig('cache');
  if (!cache || !existsSync(cache))
    throw new Error(`no npm cache on this machine (npm config get cache: ${cache})`);
  const flags = ['--prefer-offline', '--cache=/npm-host-cache'];
  const volumes = ['--volume', `${cache}:/npm-host-cache`];
  const cafile = npmConfig('cafile');
  if (cafile && existsSync(cafile)) {
    flags.push('--cafile=/npm-host-ca.pem');
    volumes.push('--volume', `${cafile}:/npm-host-ca.pem:ro`);
  }
  return ['--build-arg', `NPM_CI_FLAGS=${flags.join(' ')}`, ...volumes];
}

/** `docker/Dockerfile` built with BASE_IMAGE = the local Node image; the engine's layer cache makes a rebuild fast. */
export async function buildTesseraImage(tag = TESSERA_IMAGE): Promise<BuiltImage> {
  const base = await ensureNodeImage();
  return withLock('tessera-image', () => {
    const started = Date.now();
    podman(
      [
        'build',
        '--format',
        'docker',
        '--layers',
        '-f',
        join(REPO_ROOT, 'docker', 'Dockerfile'),
        '--build-arg',
        `BASE_IMAGE=${base}`,
        ...npmBuildArgs(),
        '-t',
        tag,
        REPO_ROOT,
      ],
      { what: 'podman build of docker/Dockerfile' },
    );
    const size = Number(podman(['image', 'inspect', '--format', '{{.Size}}', tag]).trim());
    return { ref: tag, size, buildMs: Date.now() - started };
  });
}

/**
 * One of the images under docker/ that the compose cluster uses (redis, freeradius, keycloak),
 * built on the local Debian image. `context` defaults to that folder; layers are cached.
 */
export async function buildServiceImage(
  name: string,
  opts: { context?: string; buildArgs?: string[] } = {},
): Promise<string> {
  const debian = await ensureDebianImage();
  const tag = `localhost/tessera-${name}:test`;
  return withLock(`image-${name}`, () => {
    podman(
      [
        'build',
        '--format',
        'docker',
        '--layers',
        '-f',
        join(REPO_ROOT, 'docker', name, 'Dockerfile'),
        '--build-arg',
        `BASE_IMAGE=${debian}`,
        ...(opts.buildArgs ?? []).flatMap((a) => ['--build-arg', a]),
        '-t',
        tag,
        opts.context ?? join(REPO_ROOT, 'docker', name),
      ],
      { what: `podman build of docker/${name}/Dockerfile` },
    );
    return tag;
  });
}

/**
 * The Keycloak image of the compose cluster: our extension's jar (built by Maven unless it is
 * there) and the distribution tarball that test/harness/keycloak.ts caches, hard-linked into a
 * temporary build context so nothing is downloaded inside the build.
 */
export async function buildKeycloakImage(): Promise<string> {
  const { buildExtension, EXTENSION_JAR, keycloakDistribution, KEYCLOAK_VERSION } = await import(
    './keycloak.ts'
  );
  if (!existsSync(EXTENSION_JAR)) buildExtension();
  const tgz = keycloakDistribution();
  const ctx = mkdtempSync(join(tmpdir(), 'tessera-keycloak-image-'));
  try {
    mkdirSync(join(ctx, 'docker/keycloak'), { recursive: true });
    mkdirSync(join(ctx, 'keycloak-extension/target'), { recursive: true });
    cpSync(EXTENSION_JAR, join(ctx, 'keycloak-extension/target/tessera-keycloak.jar'));
    for (const f of ['Dockerfile', 'realm-tessera.json'])
      cpSync(join(REPO_ROOT, 'docker/keycloak', f), join(ctx, 'docker/keycloak', f));
    linkSync(tgz, join(ctx, 'docker/keycloak', `keycloak-quarkus-dist-${KEYCLOAK_VERSION}.tar.gz`));
    return await buildServiceImage('keycloak', {
      context: ctx,
      buildArgs: [`KEYCLOAK_VERSION=${KEYCLOAK_VERSION}`],
    });
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
}
