// RADIUS throughput: Access-Requests/s through FreeRADIUS + rlm_rest + Tessera (one-shot TOTP) next
// to the same FreeRADIUS answering from its local `files` module, in the same run and tree.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { base32Decode, timeStep, totpAt } from '../src/otp/index.ts';
import { awaitFreshStep } from '../test/harness/codes.ts';
import { freeradiusVersion, startFreeRadius } from '../test/harness/freeradius.ts';
import { type BulkResult, packetText, radBulk } from '../test/harness/radclient.ts';
import { Api, startTessera } from '../test/harness/tessera.ts';

const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const LOCAL_PASSWORD = 'local-bench-password';

function codeAt(step: number): string {
  return totpAt({ secret: base32Decode(SECRET)!, algorithm: 'SHA1', digits: 6, period: 30 }, step);
}

async function inParallel<T>(items: T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: width }, worker));
}

function rate(r: BulkResult): Record<string, number> {
  const answered = r.accepted + r.rejected;
  return {
    requests: r.sent,
    accepted: r.accepted,
    rejected: r.rejected,
    lost: r.lost,
    seconds: Number((r.elapsedMs / 1000).toFixed(3)),
    requestsPerSecond: Math.round((answered / r.elapsedMs) * 1000),
  };
}

/**
 * Every Tessera request is a fresh, valid code (one user per request, the current step and then the
 * next, both inside the ±1 window), so the Tessera figure counts real accepts, each one a
 * check-and-advance write. The local figure is PAP against a users file: no backend at all.
 */
export async function benchRadius(): Promise<Record<string, unknown>> {
  const users = Number(process.env.BENCH_RADIUS_USERS ?? 2000);
  const parallel = Number(process.env.BENCH_RADIUS_PARALLEL ?? 64);
  const maxServers = Number(process.env.BENCH_RADIUS_THREADS ?? 32);
  const work = mkdtempSync(join(tmpdir(), 'tessera-bench-radius-'));
  const node = await startTessera();
  let fr: Awaited<ReturnType<typeof startFreeRadius>> | undefined;
  try {
    const admin = new Api(node.url, node.adminKey);
    const apiKey = await admin.createClient('radius');
    const names = Array.from({ length: users }, (_, i) => `rb${i}`);
    await inParallel(names, 16, (u) => admin.createUserWithTotp(u, { secret: SECRET }));
    fr = await startFreeRadius({
      tesseraUrl: node.url,
      apiKey,
      debug: false,
      maxServers,
      localUsers: names.map((u) => ({ user: u, password: LOCAL_PASSWORD })),
      localTotpUsers: names.map((u) => ({ user: u, base32Secret: SECRET })),
    });
    const tessera = { port: fr.port, secret: fr.secret };
    const local = { port: fr.localPort!, secret: fr.secret };
    const localTotp = { port: fr.localTotpPort!, secret: fr.secret };

    const file = (name: string, packets: string[]) => {
      const path = join(work, name);
      writeFileSync(path, packets.join('\n'));
      return path;
    };
    // The trivial local path is so fast that it gets more packets, for a run long enough to time.
    const localFile = file(
      'local.txt',
      Array.from({ length: 5 }, () => names)
        .flat()
        .map((u) => packetText({ 'User-Name': u, 'User-Password': LOCAL_PASSWORD })),
    );
    // Warm both paths (connection pools, threads) before measuring.
    await radBulk(
      local,
      file(
        'warm-local.txt',
        names.slice(0, 50).map((u) => packetText({ 'User-Name': u, 'User-Password': LOCAL_PASSWORD })),
      ),
      parallel,
    );
    await radBulk(
      tessera,
      file(
        'warm-tessera.txt',
        names.slice(0, 50).map((u) => packetText({ 'User-Name': u, 'User-Password': 'bad' })),
      ),
      parallel,
    );

    const localBefore = await radBulk(local, localFile, parallel);
    // Tessera accepts each code once: user i gets the codes of steps s-1, s and s+1 (all inside the
    // ±1 window) in that order, i.e. three accepts per user.
    await awaitFreshStep(5000);
    const step = timeStep(Date.now(), 30);
    const totpPackets = [step - 1, step, step + 1].flatMap((s) =>
      names.map((u) => packetText({ 'User-Name': u, 'User-Password': codeAt(s) })),
    );
    const tesseraRun = await radBulk(tessera, file('tessera.txt', totpPackets), parallel);
    // rlm_totp has no replay check and only takes the current step: give it that code each time.
    const localTotpPackets = [step, step, step].flatMap((s) =>
      names.map((u) => packetText({ 'User-Name': u, 'User-Password': codeAt(s) })),
    );
    const localTotpRun = await radBulk(localTotp, file('local-totp.txt', localTotpPackets), parallel);
    // Same path, no store write: separates the transport (RADIUS → rlm_rest → HTTP → face) from
    // the accept's check-and-advance.
    const unknownRun = await radBulk(
      tessera,
      file(
        'unknown.txt',
        totpPackets.map((_, i) => packetText({ 'User-Name': `nobody${i}`, 'User-Password': '123456' })),
      ),
      parallel,
    );
    // The machine is shared: time the baseline on both sides of the Tessera run and keep the faster.
    const localAfter = await radBulk(local, localFile, parallel);
    const localRun = localAfter.elapsedMs < localBefore.elapsedMs ? localAfter : localBefore;

    const viaTessera = rate(tesseraRun);
    const viaLocal = rate(localRun);
    const viaLocalTotp = rate(localTotpRun);
    const ratio = (a: Record<string, number>, b: Record<string, number>) =>
      Number(((a.requestsPerSecond ?? 0) / Math.max(1, b.requestsPerSecond ?? 1)).toFixed(3));
    return {
      freeradius: freeradiusVersion(),
      parallel,
      freeradiusThreads: maxServers,
      users,
      loadAverage1m: Number(loadavg()[0]!.toFixed(2)),
      tesseraOneShotTotp: viaTessera,
      tesseraUnknownUserReject: rate(unknownRun),
      localFiles: viaLocal,
      localTotp: viaLocalTotp,
      ratio: ratio(viaTessera, viaLocal),
      ratioVsLocalTotp: ratio(viaTessera, viaLocalTotp),
      ratioUnknownUserVsLocal: ratio(rate(unknownRun), viaLocal),
      aim: 'ratio >= 0.5',
      note: 'ratio = Tessera one-shot TOTP accepts / local files (PAP); ratioVsLocalTotp = / rlm_totp (no replay protection); ratioUnknownUserVsLocal = the same path without a store write',
    };
  } finally {
    await fr?.stop();
    await node.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  process.stdout.write(`${JSON.stringify(await benchRadius(), null, 2)}\n`);
}
