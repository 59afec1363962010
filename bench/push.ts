// `npm run bench` → push: push logins created and answered per second through one node, and the
// time from the phone's approve to the RADIUS Access-Accept in hold mode (goal: under 200 ms on
// loopback). Each push login is four requests (validate with the PIN, the phone's signed list and
// answer, validate again); its baseline is the same node's plain challenge starts of a TOTP user,
// measured in the same run. The client checks the first factor upstream, so no PIN hashing (scrypt)
// hides what push itself costs; the hold figure goes through the PIN as a VPN login does.
import { performance } from 'node:perf_hooks';
import { DeviceClient, fetchTransport } from '../test/harness/device-client.ts';
import { startFreeRadius } from '../test/harness/freeradius.ts';
import { rawAccessRequest } from '../test/harness/radclient.ts';
import { Api, startTessera } from '../test/harness/tessera.ts';
import { range } from './validate.ts';

const PARALLEL = Number(process.env.BENCH_PUSH_PARALLEL ?? 16);
const SECONDS = Number(process.env.BENCH_PUSH_SECONDS ?? 8);
const HOLD_SAMPLES = Number(process.env.BENCH_PUSH_HOLD_SAMPLES ?? 30);
const PIN = '2580';

/** Runs `loop` on `parallel` workers for `seconds`; returns completed loops per second. */
async function rate(
  parallel: number,
  seconds: number,
  loop: (worker: number) => Promise<void>,
): Promise<number> {
  const until = performance.now() + seconds * 1000;
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async (_, w) => {
      while (performance.now() < until) {
        await loop(w);
        done++;
      }
    }),
  );
  return Math.round((done / (performance.now() - started)) * 1000);
}

export async function benchPush(): Promise<Record<string, unknown>> {
  const node = await startTessera({ env: { TESSERA_LOG_LEVEL: 'warn', TESSERA_AUDIT_SUCCESS_RATE: '0' } });
  try {
    const admin = new Api(node.url, node.adminKey);
    const apiKey = await admin.createClient('api', { firstFactor: 'upstream' });
    const client = new Api(node.url, apiKey);
    await admin.ok('PATCH', '/v1/admin/settings', { throttle: { failuresPerWindow: 0 } });
    const phones: DeviceClient[] = [];
    for (let i = 0; i < PARALLEL; i++) {
      await admin.ok('POST', '/v1/admin/users', { username: `bp${i}`, pin: PIN });
      const enrol = await admin.ok('POST', `/v1/admin/users/bp${i}/tokens`, { type: 'push' });
      const phone = await DeviceClient.create(fetchTransport(node.url));
      if ((await phone.pair(enrol.pairing.pairingToken)).status !== 201) throw new Error('pairing failed');
      phones.push(phone);
      await admin.createUserWithTotp(`bt${i}`, { pin: PIN });
    }

    const pushLogin = async (w: number) => {
      const user = `bp${w}`;
      const start = await client.ok('POST', '/v1/validate', { user, pass: '' });
      if (start.result !== 'challenge') throw new Error(`push start: ${JSON.stringify(start)}`);
      const number = Number(/pick (\d+)/.exec(start.message)?.[1]);
      const phone = phones[w] as DeviceClient;
      const list = await phone.pushes();
      const push = list.body.items.at(-1);
      const ans = await phone.answer(push.id, { decision: 'approve', number });
      if (ans.status !== 200) throw new Error(`answer: ${ans.status}`);
      const end = await client.ok('POST', '/v1/validate', {
        user,
        pass: '',
        transactionId: start.transactionId,
      });
      if (end.result !== 'accept') throw new Error(`push login not accepted: ${JSON.stringify(end)}`);
    };
    const challengeStart = async (w: number) => {
      const r = await client.ok('POST', '/v1/validate', { user: `bt${w}`, pass: '' });
      if (r.result !== 'challenge') throw new Error(`challenge: ${JSON.stringify(r)}`);
    };
    await rate(PARALLEL, 1, pushLogin); // warm-up
    const pushRates: number[] = [];
    const baseRates: number[] = [];
    for (let round = 0; round < 2; round++) {
      pushRates.push(await rate(PARALLEL, SECONDS, pushLogin));
      baseRates.push(await rate(PARALLEL, SECONDS, challengeStart));
    }
    const loops = range(pushRates).median;
    const base = range(baseRates).median;

    // hold mode through FreeRADIUS: approve → Access-Accept
    const radiusClient = await admin.ok('POST', '/v1/admin/clients', {
      name: 'bench-hold',
      kind: 'radius',
      pushMode: 'hold',
      pushHoldSeconds: 2,
    });
    const fr = await startFreeRadius({ tesseraUrl: node.url, apiKey: radiusClient.apiKey, debug: false });
    const samples: number[] = [];
    try {
      const phone = phones[0] as DeviceClient;
      for (let i = 0; i < HOLD_SAMPLES; i++) {
        let approvedAt = 0;
        const reply = rawAccessRequest(
          { port: fr.port, secret: fr.secret },
          { user: 'bp0', password: Buffer.from(PIN), timeoutMs: 5000 },
        ).then((r) => ({ r, at: performance.now() }));
        let push: { id: string } | undefined;
        while (!push) {
          push = (await phone.pushes()).body.items.at(-1);
          if (!push) await new Promise((res) => setTimeout(res, 5));
        }
        approvedAt = performance.now();
        const ans = await phone.answer(push.id, { decision: 'approve' });
        if (ans.status !== 200) throw new Error(`hold answer: ${ans.status}`);
        const { r, at } = await reply;
        if (r.code !== 'Access-Accept') throw new Error(`hold: ${r.code} ${r.attrs['Reply-Message'] ?? ''}`);
        samples.push(at - approvedAt);
      }
    } finally {
      await fr.stop();
    }
    const ms = range(samples.map((s) => +s.toFixed(1)));
    return {
      parallel: PARALLEL,
      pushLoginsPerSecond: loops,
      pushLoginsPerSecondRounds: pushRates,
      baselineChallengeStartsPerSecond: base,
      ratioToChallengeStarts: +(loops / base).toFixed(3),
      note: 'a push login is 4 requests (validate, signed list, signed answer, validate); the baseline is 1',
      holdApproveToAcceptMs: ms,
      holdApproveToAcceptP90Ms: +[...samples]
        .sort((a, b) => a - b)
        [Math.floor(samples.length * 0.9)]!.toFixed(1),
      holdGoalMs: 200,
      holdGoalMet: ms.median < 200,
    };
  } finally {
    await node.stop();
  }
}
