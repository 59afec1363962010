// Secrets at rest: the seed key ring (AES-256-GCM, key ids, rotation) and passphrase-derived keys.

export * from './hashing.ts';
export * from './keyring.ts';
export * from './passphrase.ts';
export * from './sealed-box.ts';
export * from './seed-check.ts';
export * from './work-queue.ts';
