/** One mail waiting to go. */
export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** The template it came from, for metrics and logs (never the body). */
  template: string;
}

export interface QueueHooks {
  onSent?(mail: OutgoingMail): void;
  /** A try that failed and will be retried. */
  onRetry?(mail: OutgoingMail, error: Error): void;
  /** Given up: every try failed, or the queue was full. */
  onDeadLetter?(mail: OutgoingMail, why: string): void;
  onDepth?(depth: number): void;
}

export interface QueueOptions {
  maxAttempts: number;
  /** First retry after this; each further one waits twice as long (capped at maxDelayMs). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Mails waiting at most; beyond it a new mail is a dead letter at once. */
  capacity: number;
}

export const DEFAULT_QUEUE_OPTIONS: QueueOptions = {
  maxAttempts: 5,
  baseDelayMs: 2_000,
  maxDelayMs: 60_000,
  capacity: 1_000,
};

/**
 * An in-memory send queue: `enqueue` returns at once, so no login or page ever waits on SMTP.
 * Mails are sent one at a time, each retried with backoff; a mail that never goes is counted as
 * a dead letter. The queue is not persisted: a node that stops drops what is waiting (counted).
 */
export class MailQueue {
  private readonly waiting: { mail: OutgoingMail; attempts: number; notBefore: number }[] = [];
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly send: (mail: OutgoingMail) => Promise<void>,
    private readonly options: QueueOptions = DEFAULT_QUEUE_OPTIONS,
    private readonly hooks: QueueHooks = {},
  ) {}

  get depth(): number {
    return this.waiting.length;
  }

  enqueue(mail: OutgoingMail): void {
    if (this.closed || this.waiting.length >= this.options.capacity) {
      this.hooks.onDeadLetter?.(mail, this.closed ? 'queue closed' : 'queue full');
      return;
    }
    this.waiting.push({ mail, attempts: 0, notBefore: 0 });
    this.hooks.onDepth?.(this.waiting.length);
    this.kick(0);
  }

  /** Resolves when nothing is waiting or being sent (tests, shutdown). */
  idle(): Promise<void> {
    if (this.waiting.length === 0 && !this.running) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Stops sending; what still waits is counted as dead letters. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.waiting.splice(0)) this.hooks.onDeadLetter?.(w.mail, 'node stopped');
    this.hooks.onDepth?.(0);
    this.settleIdle();
  }

  private kick(delayMs: number): void {
    if (this.running || this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.drain(), delayMs);
    this.timer.unref();
  }

  private async drain(): Promise<void> {
    this.timer = null;
    if (this.running || this.closed) return;
    this.running = true;
    try {
      for (;;) {
        const now = Date.now();
        const i = this.waiting.findIndex((w) => w.notBefore <= now);
        if (i < 0) break;
        const item = this.waiting[i]!;
        item.attempts++;
        try {
          await this.send(item.mail);
          this.waiting.splice(this.waiting.indexOf(item), 1);
          this.hooks.onSent?.(item.mail);
        } catch (err) {
          const error = err instanceof Error ? err : new Error(String(err));
          if (this.closed) break;
          if (item.attempts >= this.options.maxAttempts) {
            this.waiting.splice(this.waiting.indexOf(item), 1);
            this.hooks.onDeadLetter?.(item.mail, error.message);
          } else {
            const delay = Math.min(
              this.options.maxDelayMs,
              this.options.baseDelayMs * 2 ** (item.attempts - 1),
            );
            item.notBefore = Date.now() + delay;
            this.hooks.onRetry?.(item.mail, error);
          }
        }
        this.hooks.onDepth?.(this.waiting.length);
      }
    } finally {
      this.running = false;
    }
    if (this.waiting.length > 0 && !this.closed) {
      const next = Math.min(...this.waiting.map((w) => w.notBefore));
      this.kick(Math.max(0, next - Date.now()));
    } else {
      this.settleIdle();
    }
  }

  private settleIdle(): void {
    if (this.waiting.length > 0 || this.running) return;
    for (const r of this.idleWaiters.splice(0)) r();
  }
}
