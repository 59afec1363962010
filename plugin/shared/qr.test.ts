import assert from 'node:assert/strict';
import { test } from 'vitest';
import { qrSvg } from './qr.ts';

test('a QR code is inline SVG named for screen readers; a label naming a user cannot break out of it', async () => {
  const svg = await qrSvg(
    'otpauth://totp/x?secret=JBSWY3DPEHPK3PXP',
    'token for "><script>alert(1)</script>&',
  );
  assert.match(
    svg,
    /^<svg role="img" aria-label="token for &#34;&#62;&#60;script&#62;alert\(1\)&#60;\/script&#62;&#38;" /,
  );
  assert.equal(svg.includes('<script'), false);
  assert.equal(svg.includes('class='), false);
  assert.match(await qrSvg('x', 'y', { className: 'qr' }), /^<svg role="img" aria-label="y" class="qr" /);
});
