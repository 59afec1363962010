/**
 * A job refused because the queue was full. src/crypto imports nothing of ours, so this is not a
 * TesseraError; callers translate it (the validator answers SERVER_BUSY).
 */
export class WorkQueueFull extends Error {
  constructor() {
    super('too many PIN checks are waiting on this node');
    this.name = 'WorkQueueFull';
  }
}

export interface WorkQueueStats {
  running: number;
  waiting: number;
  /** Jobs refused because the queue was full, since start. */
  shed: number;
}

/**
 * Runs at most `concurrency` jobs at a time and lets at most `maxWaiting` more wait; a job that
 * finds the queue full is refused at once (WorkQueueFull) instead of waiting without bound. Slow
 * hashing runs on libuv's small thread pool, which file and LMDB work share: an unbounded flood of
 * it would delay every other request on the node.
 */
export class WorkQueue {
  private running = 0;
  private shed = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private concurrency: number,
    private maxWaiting: number,
  ) {
    this.check(concurrency, maxWaiting);
  }

  configure(limits: { concurrency: number; maxWaiting: number }): void {
    this.check(limits.concurrency, limits.maxWaiting);
    this.concurrency = limits.concurrency;
    this.maxWaiting = limits.maxWaiting;
    this.drain();
  }

  get limits(): { concurrency: number; maxWaiting: number } {
    return { concurrency: this.concurrency, maxWaiting: this.maxWaiting };
  }

  get stats(): WorkQueueStats {
    return { running: this.running, waiting: this.waiting.length, shed: this.shed };
  }

  /** `mayShed: false` waits however long the queue is (work an admin asked for, not a login). */
  async run<T>(job: () => Promise<T>, opts: { mayShed?: boolean } = {}): Promise<T> {
    if (this.running < this.concurrency) this.running++;
    else {
      if (opts.mayShed !== false && this.waiting.length >= this.maxWaiting) {
        this.shed++;
        throw new WorkQueueFull();
      }
      // drain() counts the job as running when it lets it go.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    try {
      return await job();
    } finally {
      this.running--;
      this.drain();
    }
  }

  private drain(): void {
    while (this.running < this.concurrency && this.waiting.length > 0) {
      this.running++;
      this.waiting.shift()!();
    }
  }

  private check(concurrency: number, maxWaiting: number): void {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error('concurrency must be >= 1');
    if (!(maxWaiting >= 0)) throw new Error('maxWaiting must be >= 0');
  }
}
