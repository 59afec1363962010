// RFC 4180 CSV as spreadsheets write it: an optional UTF-8 BOM, CRLF or LF line ends, quoted fields
// that hold the separator, quotes ("") and line breaks. A broken row is reported, never fatal.

export type CsvRow =
  | { line: number; fields: string[] }
  /** `problem` names what is wrong, never the row's text (it may hold a token seed). */
  | { line: number; problem: string };

/** `,`, `;` or tab: whichever occurs most often outside quotes in the header line. */
export function detectSeparator(text: string): string {
  const counts: Record<string, number> = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  for (const ch of text.slice(0, 65_536)) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === '\n' || ch === '\r')) break;
    else if (!quoted && ch in counts) counts[ch] = (counts[ch] ?? 0) + 1;
  }
  let best = ',';
  for (const sep of [';', '\t']) if ((counts[sep] ?? 0) > (counts[best] ?? 0)) best = sep;
  return best;
}

/**
 * Every row of the text with the line it starts on (1-based). Lines that are empty are left out.
 * A quote that opens a field must close it; text after a closing quote, or a quote left open at
 * the end, makes that row a problem and parsing goes on with the next line.
 */
export function* parseCsv(
  input: string,
  separator = detectSeparator(input.replace(/^\uFEFF/, '')),
): Generator<CsvRow> {
  const text = input.replace(/^\uFEFF/, '');
  const n = text.length;
  // the next separator or line end, found by the regex engine rather than char by char
  const stop = new RegExp(`[${separator === '\t' ? '\\t' : separator}\\r\\n]`, 'g');
  const lineEnds = (from: number, to: number): number => {
    let count = 0;
    for (let k = from; k < to; k++) {
      const ch = text.charCodeAt(k);
      if (ch === 10 || (ch === 13 && text.charCodeAt(k + 1) !== 10)) count++;
    }
    return count;
  };
  let i = 0;
  let line = 1;
  while (i < n) {
    const start = line;
    const fields: string[] = [];
    let problem: string | null = null;
    for (;;) {
      let field: string;
      if (text[i] === '"') {
        // a quoted field: runs to the quote that is not doubled
        const parts: string[] = [];
        let from = i + 1;
        let closed = false;
        for (;;) {
          const q = text.indexOf('"', from);
          if (q < 0) {
            parts.push(text.slice(from));
            line += lineEnds(from, n);
            i = n;
            break;
          }
          parts.push(text.slice(from, q));
          line += lineEnds(from, q);
          if (text[q + 1] === '"') {
            parts.push('"');
            from = q + 2;
            continue;
          }
          i = q + 1;
          closed = true;
          break;
        }
        field = parts.join('');
        if (!closed) problem ??= 'a quoted field is never closed';
        // after the closing quote only the separator or the end of the line may follow
        if (i < n && text[i] !== separator && text[i] !== '\n' && text[i] !== '\r') {
          problem ??= 'text follows a closing quote';
          stop.lastIndex = i;
          i = stop.exec(text)?.index ?? n;
        }
      } else {
        stop.lastIndex = i;
        const end = stop.exec(text)?.index ?? n;
        field = text.slice(i, end);
        i = end;
      }
      fields.push(field);
      if (i < n && text[i] === separator) {
        i++;
        continue;
      }
      // end of line (or of text)
      if (text[i] === '\r') i++;
      if (text[i] === '\n') i++;
      line++;
      break;
    }
    if (problem) yield { line: start, problem };
    else if (!(fields.length === 1 && fields[0]!.trim() === '')) yield { line: start, fields };
  }
}
