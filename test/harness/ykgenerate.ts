// Yubico OTPs made by Debian's libyubikey tools (ykgenerate), not by our own code: the cross-check.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ensureDebianPackages } from './debian.ts';
import { Api, startTessera, type TesseraHandle } from './tessera.ts';

export interface TestYubikey {
  publicId: string;
  privateId: string;
  aesKey: string;
}

const MODHEX = 'cbdefghijklnrtuv';

/** A key as the personalisation tool would program it: a random "vv…" public id and random secrets. */
export function newTestYubikey(): TestYubikey {
  const id = [0xff, ...randomBytes(5)];
  return {
    publicId: id.map((b) => MODHEX[b >> 4]! + MODHEX[b & 15]!).join(''),
    privateId: randomBytes(6).toString('hex'),
    aesKey: randomBytes(16).toString('hex'),
  };
}

export function ensureYkgenerate(): void {
  ensureDebianPackages(['libyubikey-dev']);
}

const hex = (value: number, chars: number) => value.toString(16).padStart(chars, '0');

/** The OTP the key types at this usage (power-up) counter and session counter, public id first. */
export function ykgenerate(
  key: TestYubikey,
  usageCounter: number,
  sessionCounter: number,
  timestamp = 0x2a5c10,
): string {
  const out = execFileSync(
    'ykgenerate',
    [
      key.aesKey,
      key.privateId,
      hex(usageCounter, 4),
      hex(timestamp & 0xffff, 4),
      hex((timestamp >> 16) & 0xff, 2),
      hex(sessionCounter, 2),
    ],
    { encoding: 'utf8' },
  ).trim();
  if (!/^[cbdefghijklnrtuv]{32}$/.test(out)) throw new Error(`ykgenerate printed ${JSON.stringify(out)}`);
  return key.publicId + out;
}

/** A node for YubiKey tests: ykgenerate installed, an admin and an `api` client ready. */
export async function startYubikeyNode(): Promise<{ node: TesseraHandle; admin: Api; client: Api }> {
  ensureYkgenerate();
  const node = await startTessera();
  const admin = new Api(node.url, node.adminKey);
  return { node, admin, client: new Api(node.url, await admin.createClient('api')) };
}
