// `npm run bench` → radius: one-shot TOTP accepts per second through FreeRADIUS (the shipped
// freeradius-config, rlm_rest) + Tessera, as a ratio to the same FreeRADIUS configuration pointed
// at a no-op HTTP endpoint that answers every request as Tessera answers an accept (204): rlm_rest's
// own ceiling on this machine, and pointed at the design-limit route (bench/limit-server.ts: only
// the work an accept cannot avoid, a durable write included), which says how much of the gap is
// that work. radclient drives all three with the same packets; runs alternate.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { timeStep } from '../src/otp/index.ts';
import { freeradiusVersion, startFreeRadius } from '../test/harness/freeradius.ts';
import { type BulkResult, packetText, radBulk } from '../test/harness/radclient.ts';
import { benchCodes } from './codes.ts';
import { cpuPerAccept, exitedChildrenCpuMs } from './cpu.ts';
import { type ServerProcess, startServer } from './procs.ts';
import { ROUNDS, range, ratio } from './validate.ts';

const USERS = Number(process.env.BENCH_RADIUS_USERS ?? 3000);
const PARALLEL = Number(process.env.BENCH_RADIUS_PARALLEL ?? 64);
const THREADS = Number(process.env.BENCH_RADIUS_THREADS ?? 32);
const CORES = availableParallelism();
/** CPU µs per accept of FreeRADIUS and the HTTP server behind it, the generator left out. */
const serverSide = (run: RadiusRun) => run.cpuUsPerAccept.freeradius + run.cpuUsPerAccept.server;
const codeAt = benchCodes();

interface RadiusRun {
  sent: number;
  accepts: number;
  rejected: number;
  lost: number;
  seconds: number;
  acceptsPerSecond: number;
  /** CPU µs per accept of FreeRADIUS, the HTTP server behind it, radclient, and their sum. */
  cpuUsPerAccept: Record<'freeradius' | 'server' | 'radclient' | 'total', number>;
  /** The sum's share of the machine's cores over the run: near 1, the run was CPU-bound. */
  cpuShareOfMachine: number;
}

function figures(r: BulkResult): Omit<RadiusRun, 'cpuUsPerAccept' | 'cpuShareOfMachine'> {
  return {
    sent: r.sent,
    accepts: r.accepted,
    rejected: r.rejected,
    lost: r.lost,
    seconds: +(r.elapsedMs / 1000).toFixed(2),
    acceptsPerSecond: Math.round((r.accepted / r.elapsedMs) * 1000),
  };
}

export async function benchRadius(): Promise<Record<string, unknown>> {
  const work = mkdtempSync(join(tmpdir(), 'tessera-bench-radius-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-bench-node-'));
  const population = { prefix: 'r', count: USERS * 2 * (ROUNDS + 1) };
  let node: ServerProcess | undefined;
  let noop: ServerProcess | undefined;
  let limit: ServerProcess | undefined;
  const radius: Awaited<ReturnType<typeof startFreeRadius>>[] = [];
  try {
    [node, noop, limit] = await Promise.all([
      startServer({ kind: 'tessera', env: { TESSERA_DATA_DIR: dataDir }, population }),
      startServer({ kind: 'noop' }),
      startServer({ kind: 'limit', store: 'lmdb', population }),
    ]);
    const viaTessera = await startFreeRadius({
      tesseraUrl: `http://127.0.0.1:${node.port}`,
      apiKey: node.apiKey,
      debug: false,
      maxServers: THREADS,
    });
    radius.push(viaTessera);
    const viaNoop = await startFreeRadius({
      tesseraUrl: `http://127.0.0.1:${noop.port}`,
      apiKey: node.apiKey,
      debug: false,
      maxServers: THREADS,
    });
    radius.push(viaNoop);
    // The design-limit route behind the same FreeRADIUS: what an accept's own work costs here.
    const viaLimit = await startFreeRadius({
      tesseraUrl: `http://127.0.0.1:${limit.port}`,
      apiKey: limit.apiKey,
      debug: false,
      maxServers: THREADS,
    });
    radius.push(viaLimit);
    const via = { tessera: viaTessera, noop: viaNoop, limit: viaLimit };
    const behind = { tessera: node, noop, limit };
    const next = { tessera: 0, noop: 0, limit: 0 };
    // User i of a run's slice gets the codes of steps s-1, s and s+1 in that order: three fresh
    // accepts each, all inside the ±1 window of the step s the run lies in.
    const run = async (name: keyof typeof via): Promise<RadiusRun> => {
      const fr = via[name];
      const left = 30_000 - (Date.now() % 30_000);
      if (left < 12_000) await new Promise((r) => setTimeout(r, left + 100));
      const s = timeStep(Date.now(), 30);
      const first = next[name];
      next[name] += USERS;
      const packets = [s - 1, s, s + 1].flatMap((step) =>
        Array.from({ length: USERS }, (_, i) =>
          packetText({ 'User-Name': `r${first + i}`, 'User-Password': codeAt(step) }),
        ),
      );
      const file = join(work, `${name}-${first}.txt`);
      writeFileSync(file, packets.join('\n'));
      const radclientBefore = exitedChildrenCpuMs();
      const measured = await cpuPerAccept({ freeradius: fr.pid, server: behind[name].pid }, async () =>
        figures(await radBulk({ port: fr.port, secret: fr.secret }, file, PARALLEL)),
      );
      const radclient = Math.round(
        ((exitedChildrenCpuMs() - radclientBefore) * 1000) / Math.max(1, measured.accepts),
      );
      const { freeradius = 0, server = 0 } = measured.cpuUsPerAccept;
      const total = freeradius + server + radclient;
      const result: RadiusRun = {
        ...measured,
        cpuUsPerAccept: { freeradius, server, radclient, total },
        cpuShareOfMachine: +((total * measured.accepts) / (measured.seconds * 1e6 * CORES)).toFixed(2),
      };
      if (result.rejected > 0 || result.lost > 0) {
        throw new Error(
          `RADIUS accept run via ${name}: ${result.rejected} rejected and ${result.lost} lost of ${result.sent}`,
        );
      }
      return result;
    };
    // warm-up: JIT, rlm_rest's connection pools
    for (const name of ['tessera', 'noop', 'limit'] as const) await run(name);
    type Round = Record<keyof typeof via, RadiusRun>;
    const rounds: Round[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const round = {} as Round;
      for (const name of r % 2 === 0
        ? (['noop', 'limit', 'tessera'] as const)
        : (['tessera', 'limit', 'noop'] as const))
        round[name] = await run(name);
      rounds.push(round);
    }
    const per = (f: (r: (typeof rounds)[number]) => number) => range(rounds.map(f));
    const cpuSummary = (name: keyof typeof via) => ({
      freeradius: per((r) => r[name].cpuUsPerAccept.freeradius).median,
      server: per((r) => r[name].cpuUsPerAccept.server).median,
      radclient: per((r) => r[name].cpuUsPerAccept.radclient).median,
      total: per((r) => r[name].cpuUsPerAccept.total),
      cpuShareOfMachine: per((r) => r[name].cpuShareOfMachine),
    });
    return {
      what: 'one-shot TOTP accepts per second through FreeRADIUS (shipped config, rlm_rest over HTTP/1.1 on loopback) + Tessera, vs the same FreeRADIUS pointed at a no-op endpoint answering 204 and at the design-limit route; radclient, fresh codes, runs alternated',
      freeradius: freeradiusVersion(),
      radclientParallel: PARALLEL,
      freeradiusThreads: THREADS,
      packetsPerRun: USERS * 3,
      acceptsPerSecond: {
        tessera: per((r) => r.tessera.acceptsPerSecond),
        limit: per((r) => r.limit.acceptsPerSecond),
        noop: per((r) => r.noop.acceptsPerSecond),
      },
      cpuUsPerAccept: {
        what: "CPU (user + system) per accept of each process in the run, and their sum; cpuShareOfMachine near 1 means the run was bound by the machine's cores, and then the ratio to the no-op endpoint follows the sums",
        tessera: cpuSummary('tessera'),
        limit: cpuSummary('limit'),
        noop: cpuSummary('noop'),
      },
      ratios: {
        tesseraToNoop: per((r) => ratio(r.tessera.acceptsPerSecond, r.noop.acceptsPerSecond)),
        tesseraToLimit: per((r) => ratio(r.tessera.acceptsPerSecond, r.limit.acceptsPerSecond)),
        limitToNoop: per((r) => ratio(r.limit.acceptsPerSecond, r.noop.acceptsPerSecond)),
        // FreeRADIUS and the server behind it only, as where the NASes are other machines
        tesseraToNoopByCpu: per((r) => ratio(serverSide(r.noop), serverSide(r.tessera))),
        limitToNoopByCpu: per((r) => ratio(serverSide(r.noop), serverSide(r.limit))),
      },
      ratiosByCpu:
        "xToNoopByCpu: the no-op run's CPU per accept of FreeRADIUS + the server behind it over the same sum in the other run, radclient left out. radclient busy-loops (its CPU per packet falls as -p rises: in the no-op runs here about 310 µs at 16, 95 at 64 and 65 at 128; in Tessera's 350, 130-145 and 125), so on two shared cores the throughput ratios also measure the generator; this one does not",
      runs: rounds,
      aim: 'tesseraToNoop >= 0.8',
    };
  } finally {
    for (const fr of radius) await fr.stop();
    await node?.stop();
    await noop?.stop();
    await limit?.stop();
    rmSync(work, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(await benchRadius(), null, 2)}\n`);
}
