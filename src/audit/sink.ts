import type { AuditSink } from '../auth/index.ts';
import type { AuditEvent } from '../model/index.ts';
import type { Store } from '../store/index.ts';

export interface AuditLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/**
 * Logs each event at once and writes them to the store in batches, off the request's path: an
 * audit write never adds a round trip to a validation. Events carry names and codes, never secrets.
 */
export class BufferedAuditSink implements AuditSink {
  private buffer: AuditEvent[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    private readonly log: AuditLogger,
    flushMs = 250,
  ) {
    this.timer = setInterval(() => void this.flush(), flushMs);
    this.timer.unref();
  }

  record(event: AuditEvent): void {
    this.log.info({ audit: event }, `audit ${event.type}`);
    this.buffer.push(event);
    if (this.buffer.length >= 1000) void this.flush();
  }

  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    try {
      await this.store.appendAudit(batch);
    } catch (err) {
      this.log.warn({ err: String(err), lost: batch.length }, 'audit events could not be stored');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
