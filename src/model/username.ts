import { TesseraError } from './errors.ts';

/** Longest canonical username, in code points (the admin schema's limit). */
export const USERNAME_MAX_LENGTH = 128;
/** Longer raw input is refused before any normalisation work is spent on it. */
const RAW_MAX_LENGTH = 1024;

/**
 * Names made of these characters only (letters, digits, `.`, `_`, `@`, `+`, `-`, `\\`), at most
 * USERNAME_MAX_LENGTH of them, canonicalise to their lower case.
 */
const PLAIN_ASCII = new RegExp(`^[A-Za-z0-9._@+\\\\-]{1,${USERNAME_MAX_LENGTH}}$`);
/** Invisible characters that would make two names look alike: removed. */
const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}\p{White_Space}]/gu;
/**
 * Characters a canonical name may not hold: controls, unassigned and private-use code points
 * (their meaning could change with the Unicode version), U+FFFD (what a lone surrogate turns into
 * on any UTF-8 path), and what the URL path and FreeRADIUS expansion reserve (`/`, `%`, `{`, `}`).
 * Checked after normalisation, so a full-width `％` cannot smuggle a `%` in.
 */
const FORBIDDEN = /[\p{Cc}\p{Cn}\p{Co}\ufffd/%{}]/u;

export type CanonicalResult = { ok: true; name: string } | { ok: false; problem: string };

/**
 * The one canonical form of a username: NFKC, case-folded, with format, ignorable and space
 * characters removed. Two raw names are the same user exactly when their canonical forms are equal.
 *
 * Case folding is Unicode's locale-free mapping applied as upper-then-lower until stable: it folds
 * `ß`/`ẞ` to `ss` and final sigma to sigma like full case folding, and it also folds the Turkish
 * dotless `ı` to `i` (folding proper keeps them apart). Merging more lookalikes is the safe side:
 * such a pair becomes one identity (the second is refused as existing), never two.
 */
export function canonicalizeUsername(raw: string): CanonicalResult {
  if (typeof raw !== 'string') return { ok: false, problem: 'a username must be text' };
  // Every login canonicalises its name: a plain ASCII one is what the full path would make of it
  // (NFKC and the case round trip leave these characters as their lower case, none is invisible
  // or forbidden, and a code point is a UTF-16 unit), at a sixth of the cost.
  if (PLAIN_ASCII.test(raw)) return { ok: true, name: raw.toLowerCase() };
  return canonicalizeUnicode(raw);
}

/** The full canonicalisation, for any text (canonicalizeUsername's fast path aside). */
export function canonicalizeUnicode(raw: string): CanonicalResult {
  if (raw.length > RAW_MAX_LENGTH) return { ok: false, problem: 'the username is too long' };
  if (!wellFormed(raw)) return { ok: false, problem: 'the username is not valid Unicode' };
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f-\u009f]/.test(raw))
    return { ok: false, problem: 'the username holds control characters' };
  let name = raw;
  for (let round = 0; round < 4; round++) {
    const next = name.normalize('NFKC').toUpperCase().toLowerCase().replace(INVISIBLE, '').normalize('NFKC');
    if (next === name) break;
    name = next;
  }
  if (name.length === 0) return { ok: false, problem: 'the username is empty' };
  if (FORBIDDEN.test(name))
    return {
      ok: false,
      problem: 'the username holds a character that is not allowed (/ % { } or unassigned)',
    };
  if (codePoints(name) > USERNAME_MAX_LENGTH)
    return { ok: false, problem: `the username is longer than ${USERNAME_MAX_LENGTH} characters` };
  return { ok: true, name };
}

/** The canonical username, or null when the text can never name a user. */
export function canonicalUsername(raw: string): string | null {
  const r = canonicalizeUsername(raw);
  return r.ok ? r.name : null;
}

/** The canonical username, or a 400 `INVALID_USERNAME` (the message never echoes the input). */
export function requireCanonicalUsername(raw: string): string {
  const r = canonicalizeUsername(raw);
  if (!r.ok) throw new TesseraError('INVALID_USERNAME', r.problem);
  return r.name;
}

/** True when every string in a parsed JSON value is well-formed UTF-16 (no lone surrogate). */
export function wellFormedDeep(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return wellFormed(value);
  if (depth > 32 || value === null || typeof value !== 'object') return true;
  if (Array.isArray(value)) return value.every((v) => wellFormedDeep(v, depth + 1));
  for (const [k, v] of Object.entries(value)) {
    if (!wellFormed(k) || !wellFormedDeep(v, depth + 1)) return false;
  }
  return true;
}

/** No lone surrogate: in a `u` pattern a surrogate class matches only unpaired halves. */
export function wellFormed(text: string): boolean {
  return !/[\ud800-\udfff]/u.test(text);
}

function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
