import { randomBytes, scrypt } from 'node:crypto';

export interface KdfParams {
  N: number;
  r: number;
  p: number;
  salt: string;
}

export function newKdfParams(): KdfParams {
  return { N: 2 ** 15, r: 8, p: 1, salt: randomBytes(16).toString('base64') };
}

/** A 32-byte key from a passphrase with scrypt (snapshots and backups). */
export function deriveKey(passphrase: string | Buffer, params: KdfParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      passphrase,
      Buffer.from(params.salt, 'base64'),
      32,
      { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}
