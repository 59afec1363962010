import QRCode from 'qrcode';

/**
 * An otpauth URI as an inline SVG QR code, drawn on the server: no script, no image request,
 * nothing that leaves the page. Labelled for screen readers (the URI itself is not read out).
 */
export async function qrSvg(uri: string, label: string): Promise<string> {
  const svg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 4 });
  const safe = label.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return svg.replace('<svg ', `<svg role="img" aria-label="${safe}" class="qr" `);
}
