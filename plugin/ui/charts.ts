// Charts drawn on the server as SVG: no script, no canvas, readable as an image with a text
// alternative. Colours are attributes (the CSP allows no inline style).

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface Series {
  key: string;
  label: string;
  colour: string;
}

/**
 * Stacked columns, one per bucket (e.g. an hour), one colour per series (e.g. a result), with a
 * legend and a y-axis scale. `summary` is the text alternative screen readers get.
 */
export function stackedColumns(
  buckets: { label: string; values: Record<string, number> }[],
  series: Series[],
  summary: string,
): string {
  const w = 640;
  const h = 240;
  const left = 40;
  const bottom = 40;
  const top = 28;
  const plotH = h - bottom - top;
  const max = Math.max(1, ...buckets.map((b) => series.reduce((s, x) => s + (b.values[x.key] ?? 0), 0)));
  const slot = (w - left - 8) / Math.max(1, buckets.length);
  const barW = Math.max(2, slot * 0.7);
  const parts: string[] = [];
  for (const t of [0, 0.5, 1]) {
    const y = top + plotH - plotH * t;
    parts.push(`<line x1="${left}" x2="${w - 4}" y1="${y}" y2="${y}" stroke="#d0d5dc"/>`);
    parts.push(
      `<text x="${left - 6}" y="${y + 4}" text-anchor="end" font-size="11" fill="#4a5360">${Math.round(max * t)}</text>`,
    );
  }
  buckets.forEach((b, i) => {
    let y = top + plotH;
    const x = left + i * slot + (slot - barW) / 2;
    for (const s of series) {
      const v = b.values[s.key] ?? 0;
      if (v === 0) continue;
      const bh = (v / max) * plotH;
      y -= bh;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barW.toFixed(1)}" height="${bh.toFixed(1)}" fill="${s.colour}"><title>${esc(`${b.label}: ${v} ${s.label}`)}</title></rect>`,
      );
    }
    if (i % 3 === 0)
      parts.push(
        `<text x="${(x + barW / 2).toFixed(1)}" y="${h - bottom + 16}" text-anchor="middle" font-size="11" fill="#4a5360">${esc(b.label)}</text>`,
      );
  });
  series.forEach((s, i) => {
    const x = left + i * 110;
    parts.push(`<rect x="${x}" y="6" width="12" height="12" fill="${s.colour}"/>`);
    parts.push(`<text x="${x + 16}" y="16" font-size="12" fill="#1b1f24">${esc(s.label)}</text>`);
  });
  return `<svg class="chart" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(summary)}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`;
}

/** Horizontal bars, largest first (e.g. failure reasons). */
export function horizontalBars(
  items: { label: string; value: number }[],
  colour: string,
  summary: string,
): string {
  const w = 640;
  const row = 26;
  const labelW = 170;
  const h = Math.max(1, items.length) * row + 10;
  const max = Math.max(1, ...items.map((i) => i.value));
  const parts = items.map((item, i) => {
    const y = 5 + i * row;
    const bw = ((w - labelW - 60) * item.value) / max;
    return (
      `<text x="${labelW - 8}" y="${y + 16}" text-anchor="end" font-size="12" fill="#1b1f24">${esc(item.label)}</text>` +
      `<rect x="${labelW}" y="${y + 3}" width="${bw.toFixed(1)}" height="18" fill="${colour}"><title>${esc(`${item.label}: ${item.value}`)}</title></rect>` +
      `<text x="${(labelW + bw + 6).toFixed(1)}" y="${y + 16}" font-size="12" fill="#1b1f24">${item.value}</text>`
    );
  });
  if (items.length === 0)
    parts.push(`<text x="8" y="20" font-size="13" fill="#4a5360">No failures in this period.</text>`);
  return `<svg class="chart" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(summary)}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`;
}
