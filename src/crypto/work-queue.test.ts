import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { WorkQueue, WorkQueueFull } from './work-queue.ts';

function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((r) => {
    open = r;
  });
  return { promise, open };
}

describe('WorkQueue', () => {
  test('runs at most `concurrency` jobs at once, the rest in arrival order', async () => {
    const q = new WorkQueue(2, 10);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const gates = Array.from({ length: 6 }, gate);
    const jobs = gates.map((g, i) =>
      q.run(async () => {
        running++;
        peak = Math.max(peak, running);
        order.push(i);
        await g.promise;
        running--;
        return i;
      }),
    );
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(q.stats, { running: 2, waiting: 4, shed: 0 });
    for (const g of gates) g.open();
    assert.deepEqual(await Promise.all(jobs), [0, 1, 2, 3, 4, 5]);
    assert.equal(peak, 2);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(q.stats, { running: 0, waiting: 0, shed: 0 });
  });

  test('a full queue refuses at once; work that may not be shed waits', async () => {
    const q = new WorkQueue(1, 1);
    const g = gate();
    const first = q.run(() => g.promise);
    const second = q.run(async () => 'second');
    await assert.rejects(
      q.run(async () => 'third'),
      (err: unknown) => err instanceof WorkQueueFull && !/\d{4}/.test(err.message),
    );
    const admin = q.run(async () => 'admin', { mayShed: false });
    assert.equal(q.stats.shed, 1);
    assert.equal(q.stats.waiting, 2);
    g.open();
    await first;
    assert.equal(await second, 'second');
    assert.equal(await admin, 'admin');
  });

  test('a failing job frees its slot', async () => {
    const q = new WorkQueue(1, 0);
    await assert.rejects(
      q.run(async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(await q.run(async () => 1), 1);
  });

  test('raising the concurrency lets waiting jobs go', async () => {
    const q = new WorkQueue(1, 5);
    const g = gate();
    const first = q.run(() => g.promise);
    const second = q.run(async () => 'second');
    await new Promise((r) => setImmediate(r));
    assert.equal(q.stats.waiting, 1);
    q.configure({ concurrency: 2, maxWaiting: 5 });
    assert.equal(await second, 'second', 'went ahead while the first still runs');
    g.open();
    await first;
    assert.throws(() => q.configure({ concurrency: 0, maxWaiting: 1 }), /concurrency/);
  });
});
