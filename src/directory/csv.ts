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
  for (const ch of text) {
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
  let i = 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const start = line;
    const fields: string[] = [];
    let problem: string | null = null;
    let field = '';
    let endOfRow = false;
    while (!endOfRow) {
      if (i < n && text[i] === '"' && field.length === 0) {
        // a quoted field: runs to the quote that is not doubled
        i++;
        let closed = false;
        while (i < n) {
          const ch = text[i]!;
          if (ch === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            closed = true;
            break;
          }
          if (ch === '\n') line++;
          else if (ch === '\r' && text[i + 1] !== '\n') line++;
          field += ch;
          i++;
        }
        if (!closed) problem ??= 'a quoted field is never closed';
        // after the closing quote only the separator or the end of the line may follow
        if (i < n && text[i] !== separator && text[i] !== '\n' && text[i] !== '\r') {
          problem ??= 'text follows a closing quote';
          while (i < n && text[i] !== separator && text[i] !== '\n' && text[i] !== '\r') i++;
        }
      } else {
        while (i < n && text[i] !== separator && text[i] !== '\n' && text[i] !== '\r') field += text[i++];
      }
      fields.push(field);
      field = '';
      if (i < n && text[i] === separator) {
        i++;
        continue;
      }
      // end of line (or of text)
      if (text[i] === '\r') i++;
      if (text[i] === '\n') i++;
      line++;
      endOfRow = true;
    }
    if (problem) yield { line: start, problem };
    else if (!(fields.length === 1 && fields[0]!.trim() === '')) yield { line: start, fields };
  }
}
