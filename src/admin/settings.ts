import {
  DEFAULT_SETTINGS,
  MAX_HOTP_LOOKAHEAD,
  MAX_TOTP_WINDOW,
  mergeCodeDelivery,
  type Settings,
  TesseraError,
} from '../model/index.ts';
import type { Store } from '../store/index.ts';
import { type AdminContext, auditChange } from './context.ts';

export async function loadSettings(store: Store): Promise<Settings> {
  const stored = await store.getSettings();
  return stored ? mergeSettings(DEFAULT_SETTINGS, stored) : DEFAULT_SETTINGS;
}

type DeepPartial<T> = {
  [K in keyof T]?: NonNullable<T[K]> extends object ? DeepPartial<NonNullable<T[K]>> : T[K];
};
export type SettingsPatch = DeepPartial<Settings>;

export function mergeSettings(base: Settings, patch: SettingsPatch): Settings {
  return {
    ...base,
    ...(patch as Partial<Settings>),
    methods: { ...base.methods, ...patch.methods },
    lockout: { ...base.lockout, ...patch.lockout },
    throttle: { ...base.throttle, ...patch.throttle },
    totp: { ...base.totp, ...patch.totp },
    hotp: { ...base.hotp, ...patch.hotp },
    ...(base.push || patch.push
      ? {
          push: <Settings['push']>{
            ...base.push,
            ...patch.push,
            ...(base.push?.onlineRegistrationGroups || patch.push?.onlineRegistrationGroups
              ? {
                  onlineRegistrationGroups: {
                    ...base.push?.onlineRegistrationGroups,
                    ...patch.push?.onlineRegistrationGroups,
                  } as Record<string, boolean>,
                }
              : {}),
          },
        }
      : {}),
    codeDelivery: mergeCodeDelivery(base.codeDelivery, patch.codeDelivery),
  };
}

export async function updateSettings(ctx: AdminContext, patch: SettingsPatch): Promise<Settings> {
  const before = await loadSettings(ctx.store);
  const next = mergeSettings(before, patch);
  if (next.totp.window > MAX_TOTP_WINDOW) {
    throw new TesseraError('BAD_REQUEST', `totp.window is capped at ${MAX_TOTP_WINDOW} steps`);
  }
  if (next.hotp.lookAhead > MAX_HOTP_LOOKAHEAD) {
    throw new TesseraError('BAD_REQUEST', `hotp.lookAhead is capped at ${MAX_HOTP_LOOKAHEAD}`);
  }
  await ctx.store.putSettings(next);
  auditChange(ctx, 'settings.update', {}, before, next);
  return next;
}
