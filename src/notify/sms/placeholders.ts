/** The values a gateway template may name: `{phone}`, `{digits}` (no `+`), `{otp}`, `{message}`. */
export type Placeholders = Readonly<Record<'phone' | 'digits' | 'otp' | 'message', string>>;

const PLACEHOLDER = /\{(phone|digits|otp|message)\}/g;

/** Fills a template; `encode` makes each value safe for where it lands (URL, form), never the template's own text. */
export function fill(
  template: string,
  values: Placeholders,
  encode: (v: string) => string = (v) => v,
): string {
  return template.replace(PLACEHOLDER, (_, name: keyof Placeholders) => encode(values[name]));
}

/**
 * Fills every string inside a JSON template (keys and values): the values are put in as text and
 * the whole is serialised afterwards, so a value can never break out of its string.
 */
export function fillJson(template: unknown, values: Placeholders): unknown {
  if (typeof template === 'string') return fill(template, values);
  if (Array.isArray(template)) return template.map((x) => fillJson(x, values));
  if (template && typeof template === 'object') {
    return Object.fromEntries(
      Object.entries(template).map(([k, v]) => [fill(k, values), fillJson(v, values)]),
    );
  }
  return template;
}
