// Push approval and online devices: pairing, device request signatures, push challenges.

export * from './bulk.ts';
export * from './device-auth.ts';
export * from './device-state.ts';
export * from './endpoint.ts';
export * from './pairing.ts';
export * from './service.ts';
export * from './settings.ts';
export * from './signature.ts';
export * from './vapid.ts';
export * from './wake.ts';
