import type { DeviceConfig, Settings, Token } from '../model/index.ts';

export interface EffectivePushSettings {
  numberMatching: boolean;
  userVerification: boolean;
  maxPending: number;
  timeoutSeconds: number;
  onlineRegistration: boolean;
}

export const PUSH_DEFAULTS: EffectivePushSettings = {
  numberMatching: true,
  userVerification: false,
  maxPending: 3,
  timeoutSeconds: 60,
  onlineRegistration: true,
};

export function pushSettings(settings: Settings): EffectivePushSettings {
  return { ...PUSH_DEFAULTS, ...settings.push };
}

/** Online registration for a user of `group`: the group's switch, else the global one. */
export function onlineRegistrationFor(settings: Settings, group: string): boolean {
  const groups = settings.push?.onlineRegistrationGroups;
  // Own keys only: a group named `constructor` must not read Object.prototype's.
  const own = groups && Object.hasOwn(groups, group) ? groups[group] : undefined;
  return typeof own === 'boolean' ? own : pushSettings(settings).onlineRegistration;
}

/** What a paired device is told: the token's own configuration over the settings'. */
export function deviceConfig(token: Token, settings: Settings): DeviceConfig {
  const s = pushSettings(settings);
  return {
    methods: ['push', 'totp'],
    numberMatching: s.numberMatching,
    userVerification: s.userVerification,
    ...token.device?.config,
  };
}
