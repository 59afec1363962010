import type { AdminContext } from '../../src/admin/index.ts';
import type { LoggingState } from '../../src/audit/index.ts';
import type { ClusterStatus } from '../../src/cluster/index.ts';
import type { SelfServiceContext } from '../../src/portal/index.ts';
import type { Store } from '../../src/store/index.ts';
import type { CallerLookup } from '../shared/index.ts';

/** The services the admin face needs; src/server passes them at registration. */
export interface AdminFaceOptions {
  /** Reads behind the admin views; writes go through `adminContext`. */
  store: Store;
  /** Resolves the callers' admin keys. */
  callers: CallerLookup;
  /** The admin operations' context for one caller: every action is audited with its actor. */
  adminContext: (actor: string, sourceIp?: string) => AdminContext;
  /** Stored audit events are read after a flush, so the view includes the latest. */
  audit: { flush(): Promise<void> };
  /** This node's view of the cluster (the cluster service). */
  cluster: { status(): Promise<ClusterStatus> };
  /** Invitations and temporary codes (src/portal); without it those routes are not offered. */
  selfService?: (actor: string, sourceIp?: string) => SelfServiceContext;
  /** The log level and audit outputs this node applies, re-read after a change (src/audit/runtime.ts). */
  logging: { state(): LoggingState; refresh(): Promise<void> };
}
