import { randomBytes } from 'node:crypto';
import { AbstractStartedContainer, GenericContainer, type StartedTestContainer, Wait } from 'testcontainers';
import { type ClientKind, createClient, type SeedToken, type SeedUser, seedUsers } from './seed.ts';

export const TESSERA_PORT = 8080;
const DATA_DIR = '/data';

/** The client every started container gets, so a test can validate without creating one itself. */
export const DEFAULT_CLIENT = { name: 'testcontainers', kind: 'api' } as const;

/**
 * A Tessera node in a container, in the manner of `@testcontainers/redis`: options are fluent
 * `withX()` calls, `start()` answers a `StartedTesseraContainer` whose getters give the URLs and keys.
 * Users, tokens and clients given here are created through the admin API once the node is ready.
 */
export class TesseraContainer extends GenericContainer {
  private users: SeedUser[] = [];
  private clients: { name: string; kind: ClientKind }[] = [];
  private loopbackOnly = true;
  private knownAdminKey: string | undefined;
  private master: StartedTesseraContainer | undefined;

  constructor(image = 'tessera:latest') {
    super(image);
    this.withExposedPorts(TESSERA_PORT)
      .withEnvironment({
        TESSERA_HOST: '0.0.0.0',
        TESSERA_PORT: String(TESSERA_PORT),
        TESSERA_DATA_DIR: DATA_DIR,
      })
      .withWaitStrategy(Wait.forHttp('/readyz', TESSERA_PORT).forStatusCode(200))
      .withStartupTimeout(60_000);
  }

  /** Users to create, each with its tokens (TOTP or HOTP with a known base32 secret, so tests can compute codes). */
  withUsers(...users: SeedUser[]): this {
    this.users.push(...users.map((u) => ({ ...u, tokens: [...(u.tokens ?? [])] })));
    return this;
  }

  /** Tokens for a user given to withUsers (or a new user without a PIN). */
  withTokens(username: string, ...tokens: SeedToken[]): this {
    let user = this.users.find((u) => u.username === username);
    if (!user) {
      user = { username, tokens: [] };
      this.users.push(user);
    }
    user.tokens = [...(user.tokens ?? []), ...tokens];
    return this;
  }

  /** More clients; their keys come from `getClientApiKey(name)`. */
  withClient(name: string, kind: ClientKind = 'api'): this {
    this.clients.push({ name, kind });
    return this;
  }

  /** The node's Redis (`TESSERA_REDIS_URL`) instead of the embedded store. */
  withRedisUrl(url: string): this {
    return this.withEnvironment({ TESSERA_REDIS_URL: url });
  }

  /** The seed key (base64 of 32 bytes), e.g. one key for every node of a cluster. */
  withMasterKey(base64Key: string): this {
    return this.withEnvironment({ TESSERA_MASTER_KEY: base64Key });
  }

  /** Any other TESSERA_* setting. */
  withSetting(name: `TESSERA_${string}`, value: string): this {
    return this.withEnvironment({ [name]: value });
  }

  /**
   * The first admin key (`TESSERA_ADMIN_KEY`), instead of one the node makes: a test can then hold
   * it before the container starts. `TesseraContainer.generateAdminKey()` makes a well-formed one.
   */
  withAdminKey(key: string): this {
    this.knownAdminKey = key;
    return this.withEnvironment({ TESSERA_ADMIN_KEY: key });
  }

  /** A new random admin key in Tessera's format, for withAdminKey. */
  static generateAdminKey(): string {
    return `tessera-admin.${randomBytes(9).toString('base64url')}.${randomBytes(32).toString('base64url')}`;
  }

  /**
   * A node whose Redis replicates `master`'s: nothing is seeded here (a replica refuses
   * configuration writes), and its admin and client keys are the master's, which work on it too.
   */
  asReplicaOf(master: StartedTesseraContainer): this {
    this.master = master;
    this.knownAdminKey = master.getAdminApiKey();
    return this;
  }

  /**
   * Publish the port on every interface of the engine's host. By default it is bound to 127.0.0.1,
   * which is right whenever the tests run on the engine's own machine.
   */
  withPortsOnAllInterfaces(): this {
    this.loopbackOnly = false;
    return this;
  }

  override async start(): Promise<StartedTesseraContainer> {
    if (this.loopbackOnly) {
      const bindings = this.hostConfig.PortBindings as Record<
        string,
        { HostIp?: string; HostPort?: string }[]
      >;
      for (const list of Object.values(bindings ?? {})) for (const b of list) b.HostIp = '127.0.0.1';
    }
    const started = await super.start();
    try {
      const baseUrl = `http://${started.getHost()}:${started.getMappedPort(TESSERA_PORT)}`;
      const adminKey = this.knownAdminKey ?? (await readAdminKey(started));
      if (this.master) return new StartedTesseraContainer(started, adminKey, this.master.clientApiKeys());
      const clientKeys = new Map<string, string>();
      for (const c of [DEFAULT_CLIENT, ...this.clients]) {
        clientKeys.set(c.name, await createClient(baseUrl, adminKey, c.name, c.kind));
      }
      await seedUsers(baseUrl, adminKey, this.users);
      return new StartedTesseraContainer(started, adminKey, clientKeys);
    } catch (err) {
      await started.stop().catch(() => undefined);
      throw err;
    }
  }
}

/** The first admin key, which the node wrote to `<data dir>/admin.key` on its first start. */
async function readAdminKey(container: StartedTestContainer): Promise<string> {
  const read = `process.stdout.write(require('node:fs').readFileSync('${DATA_DIR}/admin.key','utf8').trim())`;
  const res = await container.exec(['node', '-e', read]);
  if (res.exitCode !== 0 || !res.stdout.startsWith('tessera-admin.')) {
    throw new Error(
      `no admin key in ${DATA_DIR}/admin.key (a replica makes none: use asReplicaOf): ${res.stderr}`,
    );
  }
  return res.stdout;
}

export class StartedTesseraContainer extends AbstractStartedContainer {
  constructor(
    startedTestContainer: StartedTestContainer,
    private readonly adminKey: string,
    private readonly clientKeys: ReadonlyMap<string, string>,
  ) {
    super(startedTestContainer);
  }

  getPort(): number {
    return this.getMappedPort(TESSERA_PORT);
  }

  /** `http://host:port`, for the admin API, /readyz, /metrics and the faces for people. */
  getBaseUrl(): string {
    return `http://${this.getHost()}:${this.getPort()}`;
  }

  /** Where FreeRADIUS, Keycloak and other callers validate: `POST` `{user, pass, transactionId?}`. */
  getValidateUrl(): string {
    return `${this.getBaseUrl()}/v1/validate`;
  }

  /** FreeRADIUS `rlm_rest`'s authenticate URL. */
  getRadiusUrl(): string {
    return `${this.getBaseUrl()}/radius/auth`;
  }

  getAdminApiKey(): string {
    return this.adminKey;
  }

  /** Every client key this container knows, by client name. */
  clientApiKeys(): ReadonlyMap<string, string> {
    return this.clientKeys;
  }

  /** The key of the client `name` (by default the one every container gets). */
  getClientApiKey(name: string = DEFAULT_CLIENT.name): string {
    const key = this.clientKeys.get(name);
    if (!key) throw new Error(`no client "${name}" was created (see withClient)`);
    return key;
  }
}
