// Mail for people: SMTP through nodemailer, operator-overridable templates, and a send queue with
// retries that never blocks a login.

export * from './mailer.ts';
export * from './notifier.ts';
export * from './queue.ts';
export * from './templates.ts';
