import QRCode from 'qrcode';

/**
 * A URI (otpauth, pairing link) as an inline SVG QR code, drawn on the server: no script, no image
 * request, nothing that leaves the page. Labelled for screen readers (the URI itself is not read
 * out); the label is escaped, since it may name a user or a token.
 */
export async function qrSvg(
  uri: string,
  label: string,
  opts: { margin?: number; className?: string } = {},
): Promise<string> {
  const svg = await QRCode.toString(uri, {
    type: 'svg',
    errorCorrectionLevel: 'M',
    margin: opts.margin ?? 4,
  });
  const safe = label.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const cls = opts.className ? ` class="${opts.className}"` : '';
  return svg.replace('<svg ', `<svg role="img" aria-label="${safe}"${cls} `);
}
