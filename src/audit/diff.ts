/** Fields that are never written to the trail, only that they changed. */
const SECRET = /hash|sealed|secret|password|passphrase|apikey|^pin$/i;

/** Fields every write changes; their change says nothing. */
const NOISE = new Set(['updatedAt']);

/** A value longer than this is cut: the trail records what changed, not whole documents. */
const MAX_VALUE = 256;

/** A secret nested in an object (a directory's bind password in its settings) is hidden too. */
function hideSecrets(key: string, v: unknown): unknown {
  return key !== '' && SECRET.test(key) ? '[hidden]' : v;
}

function render(v: unknown): string {
  const text = typeof v === 'string' ? v : JSON.stringify(v, hideSecrets);
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE)}…` : text;
}

/** `pinHash` → `pin`, `secretSealed` → `secret`: the name an auditor knows, without the storage form. */
function secretName(key: string): string {
  return key.replace(/(Hash|Sealed)$/, '') || key;
}

/**
 * The changed fields of a record as flat audit detail: `before.email` and `after.email` for each
 * plain field that differs (a side is absent where the field was or is unset), and `pin: changed`
 * for a secret, whose value (even hashed or sealed) is never written. Either side may be null for a
 * create or a delete.
 */
export function auditChanges(before: object | null, after: object | null): Record<string, string> {
  const b = (before ?? {}) as Record<string, unknown>;
  const a = (after ?? {}) as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const key of new Set([...Object.keys(b), ...Object.keys(a)])) {
    if (NOISE.has(key)) continue;
    const was = b[key];
    const now = a[key];
    if (JSON.stringify(was) === JSON.stringify(now)) continue;
    if (SECRET.test(key)) {
      out[secretName(key)] = 'changed';
      continue;
    }
    if (was !== undefined) out[`before.${key}`] = render(was);
    if (now !== undefined) out[`after.${key}`] = render(now);
  }
  return out;
}
