import { randomBytes } from 'node:crypto';
import {
  GenericContainer,
  Network,
  type StartedNetwork,
  type StartedTestContainer,
  Wait,
} from 'testcontainers';
import type { SeedUser } from './seed.ts';
import { type StartedTesseraContainer, TesseraContainer } from './tessera-container.ts';

const REDIS_PORT = 6379;

/**
 * A master/replica pair on its own `Network`, as the contract's HA layout has it: each Tessera node
 * beside its own Redis, the replica's Redis replicating the master's, both nodes sharing one seed
 * key. Each node learns its role from its Redis; nothing else is configured.
 */
export class TesseraClusterContainers {
  private users: SeedUser[] = [];
  private masterKey = randomBytes(32).toString('base64');
  private startupTimeoutMs = 90_000;

  /** `redisImage`: any image whose `redis-server` is on PATH (the official `redis:7` is one). */
  constructor(
    private readonly tesseraImage = 'tessera:latest',
    private readonly redisImage = 'redis:7',
  ) {}

  withUsers(...users: SeedUser[]): this {
    this.users.push(...users);
    return this;
  }

  withMasterKey(base64Key: string): this {
    this.masterKey = base64Key;
    return this;
  }

  withStartupTimeout(ms: number): this {
    this.startupTimeoutMs = ms;
    return this;
  }

  async start(): Promise<StartedTesseraCluster> {
    const network = await new Network().start();
    const started: { stop(): Promise<unknown> }[] = [];
    try {
      const redisMaster = await this.redis(network, 'redis-a', []).start();
      started.push(redisMaster);
      const redisReplica = await this.redis(network, 'redis-b', [
        '--replicaof',
        'redis-a',
        String(REDIS_PORT),
      ])
        .withWaitStrategy(Wait.forLogMessage(/MASTER <-> REPLICA sync: Finished with success/))
        .start();
      started.push(redisReplica);
      const master = await this.node(network, 'node-a', 'redis-a')
        .withUsers(...this.users)
        .start();
      started.push(master);
      const replica = await this.node(network, 'node-b', 'redis-b').asReplicaOf(master).start();
      started.push(replica);
      return new StartedTesseraCluster(network, master, replica, redisMaster, redisReplica);
    } catch (err) {
      for (const c of started.reverse()) await c.stop().catch(() => undefined);
      await network.stop().catch(() => undefined);
      throw err;
    }
  }

  private redis(network: StartedNetwork, alias: string, args: string[]): GenericContainer {
    return new GenericContainer(this.redisImage)
      .withNetwork(network)
      .withNetworkAliases(alias)
      .withCommand(['redis-server', '--bind', '0.0.0.0', '--protected-mode', 'no', '--save', '', ...args])
      .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
      .withStartupTimeout(this.startupTimeoutMs);
  }

  private node(network: StartedNetwork, alias: string, redisAlias: string): TesseraContainer {
    return new TesseraContainer(this.tesseraImage)
      .withNetwork(network)
      .withNetworkAliases(alias)
      .withMasterKey(this.masterKey)
      .withRedisUrl(`redis://${redisAlias}:${REDIS_PORT}`)
      .withSetting('TESSERA_NODE_ID', alias)
      .withSetting('TESSERA_PUBLIC_URL', `http://${alias}:8080`)
      .withStartupTimeout(this.startupTimeoutMs);
  }
}

export class StartedTesseraCluster {
  constructor(
    readonly network: StartedNetwork,
    /** The node beside the master Redis: configuration is written here. */
    readonly master: StartedTesseraContainer,
    readonly replica: StartedTesseraContainer,
    readonly redisMaster: StartedTestContainer,
    readonly redisReplica: StartedTestContainer,
  ) {}

  nodes(): StartedTesseraContainer[] {
    return [this.master, this.replica];
  }

  /** Stops whatever still runs (a test may have stopped the master already), then the network. */
  async stop(): Promise<void> {
    for (const c of [this.replica, this.master, this.redisReplica, this.redisMaster]) {
      await c.stop().catch(() => undefined);
    }
    await this.network.stop().catch(() => undefined);
  }
}
