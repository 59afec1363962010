/**
 * ModHex: hex written with the letters a YubiKey can type the same on every keyboard layout
 * (`cbdefghijklnrtuv` stand for 0-f). Decoding ignores case, since caps lock upper-cases what the
 * key types.
 */
const ALPHABET = 'cbdefghijklnrtuv';
const VALUES = new Map([...ALPHABET].map((c, i) => [c, i]));

export const MODHEX_PATTERN = /^[cbdefghijklnrtuv]*$/i;

export function isModhex(text: string): boolean {
  return text.length % 2 === 0 && MODHEX_PATTERN.test(text);
}

/** The bytes of a ModHex text; null when it is not ModHex (odd length, another character). */
export function modhexDecode(text: string): Uint8Array | null {
  if (!isModhex(text)) return null;
  const lower = text.toLowerCase();
  const out = new Uint8Array(lower.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = (VALUES.get(lower[2 * i]!)! << 4) | VALUES.get(lower[2 * i + 1]!)!;
  }
  return out;
}

export function modhexEncode(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += ALPHABET[b >> 4]! + ALPHABET[b & 0x0f]!;
  return out;
}

/** Hex to ModHex (both lower case); null when the text is not hex of whole bytes. */
export function hexToModhex(hex: string): string | null {
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(hex)) return null;
  return modhexEncode(Buffer.from(hex, 'hex'));
}
