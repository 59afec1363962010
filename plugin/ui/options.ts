import type { AdminContext } from '../../src/admin/index.ts';
import type { ClusterStatus } from '../../src/cluster/index.ts';
import type { ConsoleSignIn } from '../../src/console/index.ts';
import type { SelfServiceContext } from '../../src/portal/index.ts';
import type { Store } from '../../src/store/index.ts';

/** The services the console needs; src/server passes them at registration. */
export interface UiFaceOptions {
  /** Reads behind the pages; writes go through `adminContext`. */
  store: Store;
  /** The admin operations' context for one person: every action is audited with its actor. */
  adminContext: (actor: string, sourceIp?: string) => AdminContext;
  /**
   * The self-service operations (invitations, helpdesk temporary codes) the admin API calls too;
   * without it the console offers neither.
   */
  selfService?: (actor: string, sourceIp?: string) => SelfServiceContext;
  /** Password and TOTP checks of console accounts, throttled and audited. */
  signIn: ConsoleSignIn;
  /** Stored audit events are read after a flush, so the logs include the latest. */
  audit: { flush(): Promise<void> };
  /** This node's view of the cluster. */
  cluster: { status(): Promise<ClusterStatus> };
  /** A signed-in session ends after this long without a request (default 15 minutes). */
  idleTimeoutMs?: number;
  /** ...and after this long in any case (default 8 hours). */
  maxSessionMs?: number;
}
