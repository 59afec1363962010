// The audit trail: every decision and admin action as a log line and a stored event, each in its
// stream (auth, admin, event) with its own retention.

export * from './auth-event.ts';
export * from './chain.ts';
export * from './diff.ts';
export * from './export.ts';
export * from './keys.ts';
export * from './node-events.ts';
export * from './outputs.ts';
export * from './reports.ts';
export * from './rfc5424.ts';
export * from './runtime.ts';
export * from './scan.ts';
export * from './sink.ts';
export * from './streams.ts';
export * from './verify.ts';
