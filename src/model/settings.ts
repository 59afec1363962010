import { type CodeDeliverySettings, DEFAULT_CODE_DELIVERY } from './code-delivery.ts';
import type { Method, MethodSwitch, UnknownUserPolicy } from './entities.ts';

export type NewUserMode = 'immediate' | 'after-first-token' | 'manual';

export interface Settings {
  issuer: string;
  /** immediate: MFA required from creation; after-first-token: only once a token exists; manual: admin decides. */
  newUserMode: NewUserMode;
  unknownUserPolicy: UnknownUserPolicy;
  methods: Record<Method, Exclude<MethodSwitch, 'inherit'>>;
  lockout: {
    /** Consecutive failures that lock the user. */
    threshold: number;
    /** First lock lasts this long; each further lock doubles it up to maxSeconds. */
    baseSeconds: number;
    maxSeconds: number;
  };
  throttle: {
    /** Failed attempts allowed per user per window before further attempts are refused unchecked. */
    failuresPerWindow: number;
    windowSeconds: number;
  };
  totp: {
    /** Steps accepted either side of the expected step. */
    window: number;
    /** The largest drift (in steps) a token may learn. */
    maxDrift: number;
  };
  hotp: { lookAhead: number };
  resyncWindow: number;
  challengeTtlSeconds: number;
  /** Mail and SMS codes: length, lifetime, resends, send limits. Absent in stores written before them. */
  codeDelivery?: CodeDeliverySettings;
  /** Directory sources (src/directory), bind passwords sealed with the seed key ring. */
  directorySources?: StoredDirectorySource[];
  /** Log level and audit outputs switched at run time (src/audit/runtime.ts); every node applies them. */
  logging?: LoggingSettings;
  /** Push approval and online devices (src/push); absent fields take src/push/settings.ts defaults. */
  push?: PushSettings;
}

export interface PushSettings {
  /** The phone offers three numbers, the login shows the right one. */
  numberMatching?: boolean;
  /** An approval needs a local unlock on the phone (`userVerified: true`). */
  userVerification?: boolean;
  /** Pending pushes one user may have at once (no approve-by-fatigue). */
  maxPending?: number;
  /** How long a push waits for the phone. */
  timeoutSeconds?: number;
  /** Online (paired) registration offered to users; per group in `onlineRegistrationGroups`. */
  onlineRegistration?: boolean;
  /** Groups with online registration on (over the global switch) or off. */
  onlineRegistrationGroups?: Record<string, boolean>;
}

export type LoggingLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type LoggedStream = 'auth' | 'admin' | 'event';

/**
 * What an admin switched at run time, over each node's own configuration. An absent field is the
 * node's configuration (TESSERA_LOG_LEVEL, TESSERA_AUDIT_*_STREAMS); an empty stream list switches
 * that output off. Targets (syslog host, file) stay in each node's configuration: an admin key
 * can choose what leaves the node, never where it goes.
 */
export interface LoggingSettings {
  level?: LoggingLevel;
  syslog?: LoggedStream[];
  jsonl?: LoggedStream[];
}

/** A directory source as stored; see src/directory/source.ts for what each field means. */
export interface StoredDirectorySource {
  name: string;
  url: string;
  startTls: boolean;
  bindDn: string;
  /** Sealed with the seed key ring, the source name as associated data. Never returned. */
  bindPasswordSealed: string;
  baseDn: string;
  preset: 'openldap' | 'ad';
  userFilter?: string;
  groupFilter?: string;
  caFile?: string;
  connectTimeoutMs: number;
  timeoutMs: number;
  pageSize: number;
  /** Largest fraction of a source's users one sync may disable without force. */
  maxDisableFraction: number;
  /** Seconds between scheduled syncs (run by the master, or a replica that took over); none when absent. */
  syncIntervalSeconds?: number;
  /** A sync mails a portal invitation to each user it creates with a mail address and no token. */
  inviteNewUsers?: boolean;
  createdAt: number;
}

export const MAX_TOTP_WINDOW = 10;
export const MAX_HOTP_LOOKAHEAD = 100;

export const DEFAULT_SETTINGS: Settings = {
  issuer: 'Tessera',
  newUserMode: 'immediate',
  unknownUserPolicy: 'reject',
  methods: {
    totp: 'enabled',
    hotp: 'enabled',
    email: 'enabled',
    sms: 'enabled',
    yubikey: 'enabled',
    push: 'enabled',
  },
  lockout: { threshold: 10, baseSeconds: 60, maxSeconds: 3600 },
  throttle: { failuresPerWindow: 5, windowSeconds: 60 },
  totp: { window: 1, maxDrift: 10 },
  hotp: { lookAhead: 10 },
  resyncWindow: 1000,
  challengeTtlSeconds: 120,
  codeDelivery: DEFAULT_CODE_DELIVERY,
};
