// SMS for one-time codes: a generic HTTP gateway, or SMTP-to-SMS through the node's mail server.

export * from './http-gateway.ts';
export * from './placeholders.ts';
export * from './smtp-sms.ts';
export * from './types.ts';
