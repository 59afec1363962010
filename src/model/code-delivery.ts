/** A sliding-window limit: at most `count` codes per `windowSeconds`. */
export interface SendLimit {
  count: number;
  windowSeconds: number;
}

/** How mail and SMS codes are made and how often they may be sent (Settings.codeDelivery). */
export interface CodeDeliverySettings {
  /** Digits in a code. */
  length: number;
  /** A code works this long after it was sent (and never past its challenge). */
  lifetimeSeconds: number;
  /** Further codes a user may ask for within one login (an empty answer asks); 0: none. */
  resendLimit: number;
  /** Codes sent to one user, whatever the address. */
  perUser: SendLimit;
  /** Codes sent to one address or phone number, whoever's it is (stops Tessera spamming one target). */
  perDestination: SendLimit;
  /** The SMS text; `{otp}`, `{issuer}` and `{minutes}` are filled in. */
  smsText: string;
}

export const DEFAULT_CODE_DELIVERY: CodeDeliverySettings = {
  length: 6,
  lifetimeSeconds: 300,
  resendLimit: 2,
  perUser: { count: 5, windowSeconds: 900 },
  perDestination: { count: 5, windowSeconds: 900 },
  smsText: 'Your {issuer} code is {otp}. It works once, for {minutes} min.',
};

export const CODE_LENGTH = { min: 4, max: 10 } as const;
/** The longest send-limit window; the stores forget older hits. */
export const MAX_SEND_WINDOW_SECONDS = 86_400;

type Patch = Partial<Omit<CodeDeliverySettings, 'perUser' | 'perDestination'>> & {
  perUser?: Partial<SendLimit>;
  perDestination?: Partial<SendLimit>;
};

export function mergeCodeDelivery(
  base: CodeDeliverySettings | undefined,
  patch?: Patch,
): CodeDeliverySettings {
  const b = base ?? DEFAULT_CODE_DELIVERY;
  return {
    ...b,
    ...patch,
    perUser: { ...b.perUser, ...patch?.perUser },
    perDestination: { ...b.perDestination, ...patch?.perDestination },
  };
}
