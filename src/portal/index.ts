// Self-service: invitation links, enrolment of pending tokens, a user's devices, recovery codes
// and helpdesk temporary codes. The portal face (plugin/portal) and the admin face call these.

export * from './context.ts';
export * from './devices.ts';
export * from './invitations.ts';
export * from './one-time-codes.ts';
export * from './online-devices.ts';
export * from './pending-token.ts';
export * from './prove.ts';
