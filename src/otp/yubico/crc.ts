/**
 * The CRC-16 a YubiKey puts at the end of its token (ISO 13239: reflected polynomial 0x8408,
 * initial value 0xffff). Computed over the whole token, its own CRC included, it leaves the
 * residue 0xf0b8 when the token decrypted as it was made.
 */
export const CRC_RESIDUE = 0xf0b8;

export function crc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0x8408 : crc >>> 1;
  }
  return crc;
}

export function crcHolds(token: Uint8Array): boolean {
  return crc16(token) === CRC_RESIDUE;
}
