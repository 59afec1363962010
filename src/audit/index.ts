// The audit trail: every decision and admin action as a log line and a stored event.
export * from './sink.ts';
