import type { ValidateOutcome, ValidateRequest } from '../../src/auth/index.ts';
import type { SelfServiceContext } from '../../src/portal/index.ts';

/** The services the portal face needs; src/server passes them at registration. */
export interface PortalFaceOptions {
  /** The self-service operations' context for an actor (`portal:<user>`, `portal:invitation`). */
  selfService: (actor: string, sourceIp?: string) => SelfServiceContext;
  /** Portal sign-in is a login like any other: the same validator, lockout, throttle and audit. */
  validator: { validate(req: ValidateRequest): Promise<ValidateOutcome> };
  /** Cookies only over https (when the portal's public URL is https). */
  secureCookies: boolean;
}
