/** Why a code did not leave: the login is told DELIVERY_FAILED, the metrics say which. */
export type DeliveryFailure = 'timeout' | 'unreachable' | 'refused' | 'not-configured';

/** `detail` is for the operator's log: a status, an error code; never the code, a phone number's digits or a secret. */
export type DeliveryResult = { ok: true } | { ok: false; why: DeliveryFailure; detail: string };

/** What a code message carries: the code alone (gateways that word it) and the full text. */
export interface CodeMessage {
  otp: string;
  text: string;
  /** Who sends it (settings.issuer): a mail gateway's subject line names it. */
  issuer: string;
}

/** One way of getting a code to a phone. Never throws; answers within its configured timeout. */
export interface SmsSender {
  readonly kind: 'http' | 'smtp';
  send(phone: string, message: CodeMessage): Promise<DeliveryResult>;
}

export type DeliveryFailed = Extract<DeliveryResult, { ok: false }>;

/** Runs `work` but answers `timeout` once `ms` have passed, whatever `work` still does. */
export async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T | DeliveryFailed> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<DeliveryFailed>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, why: 'timeout', detail: `no answer in ${ms} ms` }), ms);
  });
  try {
    return await Promise.race([
      work.catch(
        (err: unknown): DeliveryFailed => ({ ok: false, why: 'unreachable', detail: errorCode(err) }),
      ),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A system error's code (ECONNREFUSED, CERT_HAS_EXPIRED…) or its class: never its free text, which may quote a URL. */
export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && /^[A-Z0-9_]{2,64}$/.test(code)) return code;
  return err instanceof Error ? err.name : 'error';
}

/** A phone number as gateways want it: `+` and digits only. */
export function normalPhone(phone: string): string | null {
  const p = phone.replace(/[\s().-]/g, '');
  return /^\+?[0-9]{4,20}$/.test(p) ? p : null;
}
