// Console accounts: the people who sign in to the admin console (plugin/ui) with a password or a
// directory bind and a TOTP code Tessera checks itself; their sign-in, throttled and audited.

export * from './accounts.ts';
export * from './signin.ts';
