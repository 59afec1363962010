// The audit trail: every decision and admin action as a log line and a stored event, each in its
// stream (auth, admin, event) with its own retention.
export * from './sink.ts';
export * from './streams.ts';
