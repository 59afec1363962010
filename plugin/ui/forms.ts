import type { Static, TObject } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

export type FieldErrors = Record<string, string>;

export type FormResult<T> = { ok: true; value: T } | { ok: false; errors: FieldErrors };

/**
 * Checks a form body against its TypeBox schema. Each field that fails gets the `message` its
 * schema declares (what a person should type), so the page shows it next to that field. The
 * body is only ever read through the schema: an unknown field is refused, never stored.
 */
export function parseForm<S extends TObject>(schema: S, body: unknown): FormResult<Static<S>> {
  const input = normalise(body);
  if (Value.Check(schema, input)) return { ok: true, value: input as Static<S> };
  const errors: FieldErrors = {};
  for (const e of Value.Errors(schema, input)) {
    const field = e.path.split('/')[1] || 'form';
    if (errors[field]) continue;
    const declared = (e.schema as { message?: unknown }).message;
    const parent = schema.properties[field] as { message?: unknown } | undefined;
    errors[field] =
      typeof declared === 'string'
        ? declared
        : typeof parent?.message === 'string'
          ? parent.message
          : field in schema.properties
            ? 'This value is not valid.'
            : 'This form does not take this field.';
  }
  return { ok: false, errors };
}

/** Form fields as strings (trimmed, empty ones dropped), minus the CSRF token the guard checked. */
function normalise(body: unknown): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (!body || typeof body !== 'object') return out;
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (k === '_csrf') continue;
    if (Array.isArray(v)) out[k] = v.filter((x): x is string => typeof x === 'string');
    else if (typeof v === 'string' && v.trim() !== '') out[k] = v.trim();
  }
  return out;
}

/** The form's own values, to show again beside the errors (never a secret field). */
export function echo(body: unknown, secretFields: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  if (!body || typeof body !== 'object') return out;
  for (const [k, v] of Object.entries(body as Record<string, unknown>))
    if (typeof v === 'string' && k !== '_csrf' && !secretFields.includes(k)) out[k] = v;
  return out;
}
