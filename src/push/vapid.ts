import { createECDH } from 'node:crypto';
import type { KeyRing } from '../crypto/index.ts';

/** The VAPID pair Web Push messages are signed with (base64url: 65-byte point, 32-byte scalar). */
export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

// The order of P-256: a private scalar must be in [1, n).
const P256_N = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');

const cache = new WeakMap<KeyRing, VapidKeys>();

/**
 * Derived from the seed key ring rather than generated and stored: every node of a cluster shares
 * the ring, so every node signs with the same pair and a subscription made against one node's
 * public key is woken by any node. Nothing new to store, back up or keep secret.
 */
export function vapidKeys(ring: KeyRing): VapidKeys {
  const known = cache.get(ring);
  if (known) return known;
  for (let i = 0; ; i++) {
    const d = ring.derive(`vapid-p256:${i}`);
    const n = BigInt(`0x${d.toString('hex')}`);
    if (n === 0n || n >= P256_N) continue; // about 2^-32 likely: take the next derivation
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(d);
    const keys = {
      publicKey: ecdh.getPublicKey().toString('base64url'),
      privateKey: d.toString('base64url'),
    };
    cache.set(ring, keys);
    return keys;
  }
}

/** VAPID `sub`: the public https origin when there is one, else a mailto: that names the software. */
export function vapidSubject(publicUrl: string | undefined): string {
  if (publicUrl?.startsWith('https://')) return new URL(publicUrl).origin;
  return 'mailto:webpush@tessera.invalid';
}
