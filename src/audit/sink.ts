import type { AuditSink } from '../auth/index.ts';
import type { AuditEvent } from '../model/index.ts';
import { AUDIT_STREAMS, type AuditStream, type Store } from '../store/index.ts';
import type { AuditOutputs } from './outputs.ts';
import { auditStreamOf } from './streams.ts';

export interface AuditLogger {
  info(obj: object, msg: string): void;
  debug?(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** A flush starts at once when one stream has this many events waiting. */
const FLUSH_AT = 1000;

/**
 * How long an event waits for its batch. Short enough that a waiting event dies young: V8 promotes
 * what outlives two scavenges (about 120 ms apart at 4,300 logins/s), and promoted events are freed
 * only by a mark-compact. At 250 ms a node at that rate promoted about 210 KB per scavenge, at 50 ms
 * about 80 KB (--trace-gc-nvp, open loop), for the same CPU per login: the store's append writes
 * in chunks (APPEND_CHUNK) either way, so the commits per second barely change.
 */
export const AUDIT_FLUSH_MS = 50;

/**
 * Logs each event at once and writes them to the store in batches, off the request's path: an
 * audit write never adds a round trip to a validation. Events carry names and codes, never secrets.
 * Each stream has its own batch, so a flood of validations never shares a write with an admin event.
 */
export class BufferedAuditSink implements AuditSink {
  private buffers = new Map<AuditStream, AuditEvent[]>();
  private readonly timer: NodeJS.Timeout;
  /** The writes started so far; a flush ends only after every earlier one has. */
  private written: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly log: AuditLogger,
    flushMs = AUDIT_FLUSH_MS,
    private readonly outputs?: AuditOutputs,
  ) {
    this.timer = setInterval(() => void this.flush(), flushMs);
    this.timer.unref();
  }

  record(event: AuditEvent): void {
    const stream = auditStreamOf(event);
    // A login decision is a debug line: at info, one line per login cost a tenth of the node's
    // CPU; the authentication log (store, TESSERA_AUDIT_OUT) is its record (bench/validate.ts).
    if (stream === 'auth') this.log.debug?.({ audit: event }, `audit ${event.type}`);
    else this.log.info({ audit: event }, `audit ${event.type}`);
    this.outputs?.forward(event, stream);
    const buffer = this.buffers.get(stream) ?? [];
    buffer.push(event);
    this.buffers.set(stream, buffer);
    if (buffer.length >= FLUSH_AT) void this.flush();
  }

  /**
   * Writes what is waiting, and resolves once it and every write started before it are stored,
   * so a reader that flushes first sees every event recorded before its call.
   */
  flush(): Promise<void> {
    const batches = this.buffers;
    this.buffers = new Map();
    const write = this.written.then(() => this.write(batches));
    this.written = write;
    return write;
  }

  private async write(batches: Map<AuditStream, AuditEvent[]>): Promise<void> {
    await Promise.all(
      AUDIT_STREAMS.map(async (stream) => {
        const batch = batches.get(stream);
        if (!batch?.length) return;
        try {
          await this.store.appendAudit(batch, stream);
        } catch (err) {
          const reason = err instanceof Error && err.cause ? String(err.cause) : String(err);
          this.log.warn({ err: reason, stream, lost: batch.length }, 'audit events could not be stored');
        }
      }),
    );
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    await this.outputs?.close();
  }
}
