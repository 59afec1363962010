import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect as netConnect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Two network namespaces joined by one veth pair the test creates and can take down: `far` and
 * `near`, with 10.x addresses that exist only inside them (nothing is added to the host's own
 * namespace). Services in them are reached from the test through Unix sockets (see
 * netns-bridge.mjs) and a listener on a loopback port of the test process.
 */
export interface Partitionable {
  far: Side;
  near: Side;
  /** Takes the link down (both ends): the two sides no longer reach each other. */
  cut(): void;
  heal(): void;
  /** Runs a program inside a side's namespace (killed at close()). */
  spawnIn(side: Side, command: string, args: string[], env?: Record<string, string>): ChildProcess;
  /** A loopback port of the test process that reaches `port` on `side` (address of that side). */
  reach(side: Side, port: number): Promise<number>;
  close(): Promise<void>;
}

export interface Side {
  ns: string;
  dev: string;
  address: string;
}

const BRIDGE = resolve(import.meta.dirname, 'netns-bridge.mjs');

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

/** Whether this machine lets the test make namespaces (root, `ip netns`); else SIGSTOP is the fallback. */
export function namespacesAvailable(): boolean {
  const probe = `tsprobe${randomBytes(3).toString('hex')}`;
  try {
    ip('netns', 'add', probe);
    ip('netns', 'del', probe);
    return true;
  } catch {
    return false;
  }
}

export function makePartitionable(): Partitionable {
  const id = randomBytes(3).toString('hex');
  // 10.<a>.<b>.0/24, chosen at random so parallel runs do not meet
  const net = `10.${200 + (randomBytes(1)[0]! % 50)}.${randomBytes(1)[0]! % 250}`;
  const far: Side = { ns: `tsfar${id}`, dev: `tvf${id}`, address: `${net}.1` };
  const near: Side = { ns: `tsnear${id}`, dev: `tvn${id}`, address: `${net}.2` };
  const procs: ChildProcess[] = [];
  const servers: Server[] = [];
  const sockDir = mkdtempSync(join(tmpdir(), 'tessera-netns-'));
  let sockets = 0;
  ip('netns', 'add', far.ns);
  ip('netns', 'add', near.ns);
  ip('link', 'add', far.dev, 'netns', far.ns, 'type', 'veth', 'peer', 'name', near.dev, 'netns', near.ns);
  for (const side of [far, near]) {
    ip('-n', side.ns, 'link', 'set', 'lo', 'up');
    ip('-n', side.ns, 'addr', 'add', `${side.address}/24`, 'dev', side.dev);
    ip('-n', side.ns, 'link', 'set', side.dev, 'up');
  }
  const handle: Partitionable = {
    far,
    near,
    cut() {
      ip('-n', far.ns, 'link', 'set', far.dev, 'down');
      ip('-n', near.ns, 'link', 'set', near.dev, 'down');
    },
    heal() {
      ip('-n', far.ns, 'link', 'set', far.dev, 'up');
      ip('-n', near.ns, 'link', 'set', near.dev, 'up');
    },
    spawnIn(side, command, args, env) {
      const p = spawn('ip', ['netns', 'exec', side.ns, command, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(env ? { env } : {}),
      });
      procs.push(p);
      return p;
    },
    async reach(side, port) {
      const path = join(sockDir, `s${sockets++}.sock`);
      const bridge = handle.spawnIn(side, process.execPath, [BRIDGE, path, `${side.address}:${port}`]);
      await new Promise<void>((ok, fail) => {
        const late = setTimeout(
          () => fail(new Error(`the namespace bridge to ${side.address}:${port} did not start in 15 s`)),
          15_000,
        );
        bridge.stdout?.once('data', () => {
          clearTimeout(late);
          ok();
        });
        bridge.once('exit', (code) => {
          clearTimeout(late);
          fail(new Error(`the namespace bridge exited with ${code}`));
        });
      });
      const server = createServer((client) => {
        const upstream = netConnect(path);
        client.pipe(upstream);
        upstream.pipe(client);
        client.on('error', () => upstream.destroy());
        upstream.on('error', () => client.destroy());
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      servers.push(server);
      await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
      const addr = server.address();
      if (!addr || typeof addr === 'string') throw new Error('no loopback port for the bridge');
      return addr.port;
    },
    async close() {
      for (const s of servers) s.close();
      await Promise.all(
        procs.map(
          (p) =>
            new Promise<void>((done) => {
              if (p.exitCode !== null || p.signalCode !== null) return done();
              p.once('exit', () => done());
              p.kill('SIGCONT');
              p.kill('SIGKILL');
            }),
        ),
      );
      for (const ns of [far.ns, near.ns]) {
        try {
          ip('netns', 'del', ns);
        } catch {
          // already gone
        }
      }
      rmSync(sockDir, { recursive: true, force: true });
    },
  };
  return handle;
}
