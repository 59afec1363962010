// HTTP helpers every face shares: caller authentication, the end user's address, error replies, option checks, QR codes.

export * from './caller-auth.ts';
export * from './client-ip.ts';
export * from './errors.ts';
export * from './http-edge.ts';
export * from './login-logging.ts';
export * from './options.ts';
export * from './qr.ts';
export * from './replies.ts';
export * from './source-allowed.ts';
