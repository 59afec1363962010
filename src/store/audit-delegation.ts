import type { AuditEvent } from '../model/index.ts';
import type {
  AuditChainView,
  AuditDailyCount,
  AuditHit,
  AuditPosition,
  AuditSealer,
  AuditSeek,
  AuditStream,
} from './types.ts';

/** What each store's audit log (embedded/audit-log.ts, redis/audit-log.ts) answers. */
export interface AuditLogReads {
  seek(stream: AuditStream, q: AuditSeek): Promise<AuditHit[]>;
  read(stream: AuditStream, positions: AuditPosition[]): Promise<(AuditEvent | null)[]>;
  dailyCounts(fromDay: string, toDay: string): Promise<AuditDailyCount[]>;
  readChain(stream: AuditStream, range?: { from?: number; to?: number }): Promise<AuditChainView>;
  list(limit: number, stream?: AuditStream): Promise<AuditEvent[]>;
  useSealer(sealer: AuditSealer): void;
}

/**
 * The Store's audit reads, answered by the store's audit log object: both stores keep their
 * audit streams in an object of their own, and these methods only hand the call on.
 */
export abstract class AuditLogDelegation {
  protected abstract readonly audit: AuditLogReads;

  seekAudit(stream: AuditStream, seek: AuditSeek): Promise<AuditHit[]> {
    return this.audit.seek(stream, seek);
  }

  readAudit(stream: AuditStream, positions: AuditPosition[]): Promise<(AuditEvent | null)[]> {
    return this.audit.read(stream, positions);
  }

  auditDailyCounts(fromDay: string, toDay: string): Promise<AuditDailyCount[]> {
    return this.audit.dailyCounts(fromDay, toDay);
  }

  readAuditChain(stream: AuditStream, range?: { from?: number; to?: number }): Promise<AuditChainView> {
    return this.audit.readChain(stream, range);
  }

  listAudit(limit: number, stream?: AuditStream): Promise<AuditEvent[]> {
    return this.audit.list(limit, stream);
  }

  useAuditSealer(sealer: AuditSealer): void {
    this.audit.useSealer(sealer);
  }
}
