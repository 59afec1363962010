// Mail for people: SMTP through nodemailer, operator-overridable templates, and a send queue with
// retries that never blocks a login; and sign-in codes by mail or SMS (sms/), sent at once.

export * from './mailer.ts';
export * from './notifier.ts';
export * from './queue.ts';
export * from './sms/index.ts';
export * from './templates.ts';
