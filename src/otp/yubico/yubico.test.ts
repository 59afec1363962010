import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import {
  crc16,
  decryptToken,
  generateOtp,
  hexToModhex,
  modhexDecode,
  modhexEncode,
  otpPosition,
  splitOtp,
} from './index.ts';

// Yubico's published examples (yubico-c test-vectors.txt and README, ykdebug sessions).
const KEY = Buffer.from('ecde18dbe76fbd0c33330f1c354871db', 'hex');
const PRIVATE_ID = Buffer.from('8792ebfe26cc', 'hex');
const OTP_USE_17 = 'dteffujehknhfjbrjnlnldnhcujvddbikngjrtgh';
const OTP_USE_16 = 'dteffujedcflcindvdbrblehecuitvjkjevvehjd';

describe('ModHex', () => {
  test('decodes and encodes as Yubico documents', () => {
    assert.equal(Buffer.from(modhexDecode('dteffuje')!).toString('hex'), '2d344e83');
    assert.equal(
      Buffer.from(modhexDecode('hknhfjbrjnlnldnhcujvddbikngjrtgh')!).toString('hex'),
      '69b6481c8baba2b60e8f22179b58cd56',
    );
    assert.equal(modhexEncode(KEY), 'urtubjtnuihvntcreeeecvbregfjibtn');
    assert.equal(modhexEncode(Buffer.from('test')), 'ifhgieif');
    assert.equal(Buffer.from(modhexDecode('ifhgieif')!).toString(), 'test');
    assert.equal(hexToModhex('b565716f'), 'nghgibhv');
    assert.equal(hexToModhex('8792ebfe26cc'), 'jikdunvudhrr');
  });

  test('ignores case and refuses what is not ModHex', () => {
    assert.equal(Buffer.from(modhexDecode('IFHGIEIF')!).toString(), 'test');
    assert.equal(modhexDecode('ifhgiei'), null, 'odd length');
    assert.equal(modhexDecode('ifhgieia'), null, '"a" is hex, not ModHex');
    assert.equal(modhexDecode('1234'), null);
    assert.equal(hexToModhex('xyz0'), null);
  });
});

describe('CRC-16', () => {
  test('a whole token leaves the residue 0xf0b8; one changed bit does not', () => {
    const plain = Buffer.from('8792ebfe26cc130030c20011c89f23c8', 'hex');
    assert.equal(crc16(plain), 0xf0b8);
    plain[3]! ^= 0x01;
    assert.notEqual(crc16(plain), 0xf0b8);
  });
});

describe('Yubico OTP token', () => {
  test('the published OTP decrypts to the published fields', () => {
    const parts = splitOtp(OTP_USE_17, 8);
    assert.ok(parts.ok);
    assert.equal(parts.publicId, 'dteffuje');
    assert.equal(Buffer.from(parts.cipher).toString('hex'), '69b6481c8baba2b60e8f22179b58cd56');
    const result = decryptToken(parts.cipher, KEY, PRIVATE_ID);
    assert.ok(result.ok);
    assert.deepEqual(
      { ...result.token, privateId: Buffer.from(result.token.privateId).toString('hex') },
      {
        privateId: '8792ebfe26cc',
        usageCounter: 19,
        capsLock: false,
        timestamp: 0xc230,
        sessionCounter: 17,
        random: 0x9fc8,
      },
    );
  });

  test('the two published OTPs of one session are in order', () => {
    const position = (otp: string) => {
      const parts = splitOtp(otp, 8);
      assert.ok(parts.ok);
      const r = decryptToken(parts.cipher, KEY, PRIVATE_ID);
      assert.ok(r.ok);
      return otpPosition(r.token);
    };
    assert.equal(position(OTP_USE_16), 19 * 256 + 16);
    assert.ok(position(OTP_USE_17) > position(OTP_USE_16));
  });

  test('a wrong key fails the CRC; a wrong private id is told apart', () => {
    const parts = splitOtp(OTP_USE_17, 8);
    assert.ok(parts.ok);
    const otherKey = Buffer.from(KEY);
    otherKey[0]! ^= 1;
    assert.deepEqual(decryptToken(parts.cipher, otherKey, PRIVATE_ID), { ok: false, problem: 'crc' });
    const otherId = Buffer.from(PRIVATE_ID);
    otherId[5]! ^= 1;
    assert.deepEqual(decryptToken(parts.cipher, KEY, otherId), { ok: false, problem: 'private-id' });
  });

  test('a changed character, a wrong length and a non-ModHex character are each told apart', () => {
    const changed = `${OTP_USE_17.slice(0, 20)}${OTP_USE_17[20] === 'c' ? 'b' : 'c'}${OTP_USE_17.slice(21)}`;
    const parts = splitOtp(changed, 8);
    assert.ok(parts.ok);
    assert.deepEqual(decryptToken(parts.cipher, KEY, PRIVATE_ID), { ok: false, problem: 'crc' });
    assert.deepEqual(splitOtp(OTP_USE_17.slice(1), 8), { ok: false, problem: 'length' });
    assert.deepEqual(splitOtp(`${OTP_USE_17.slice(0, -1)}a`, 8), { ok: false, problem: 'modhex' });
  });

  test('caps lock: upper-case OTPs decode, and the flag does not move the counter', () => {
    const parts = splitOtp(OTP_USE_17.toUpperCase(), 8);
    assert.ok(parts.ok);
    assert.equal(parts.publicId, 'dteffuje');
    const otp = generateOtp('cccccccccccb', KEY, {
      privateId: PRIVATE_ID,
      usageCounter: 5,
      sessionCounter: 2,
      timestamp: 0x123456,
      random: 7,
      capsLock: true,
    });
    const p = splitOtp(otp, 12);
    assert.ok(p.ok);
    const r = decryptToken(p.cipher, KEY, PRIVATE_ID);
    assert.ok(r.ok);
    assert.equal(r.token.capsLock, true);
    assert.equal(r.token.usageCounter, 5);
    assert.equal(r.token.timestamp, 0x123456);
  });

  test('generating the published plaintext gives the published OTP', () => {
    const otp = generateOtp('dteffuje', KEY, {
      privateId: PRIVATE_ID,
      usageCounter: 19,
      sessionCounter: 17,
      timestamp: 0xc230,
      random: 0x9fc8,
    });
    assert.equal(otp, OTP_USE_17);
  });
});
