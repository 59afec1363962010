import type { Method, Token, User } from '../../model/index.ts';
import type { ChallengeMethod } from './types.ts';

/** One line of the method menu: what the user picks by its number. */
export interface MenuEntry {
  index: number;
  serial: string;
  type: Method;
  label: string;
}

/** Digits answer a menu, so it never has more entries than one digit can name. */
export const MENU_MAX = 9;
/** One RADIUS attribute (Reply-Message) holds at most 253 octets. */
const MENU_TEXT_MAX_BYTES = 253;
const LABEL_MAX_CHARS = 40;

/** The default token first, then oldest first, so the numbers stay put between logins. */
export function buildMenu(
  tokens: readonly Token[],
  user: User,
  methodOf: (token: Token) => ChallengeMethod,
): MenuEntry[] {
  return [...tokens]
    .sort(
      (a, b) =>
        Number(b.isDefault) - Number(a.isDefault) ||
        a.createdAt - b.createdAt ||
        a.serial.localeCompare(b.serial),
    )
    .slice(0, MENU_MAX)
    .map((token, i) => ({
      index: i + 1,
      serial: token.serial,
      type: token.type,
      label: cleanLabel(methodOf(token).label(token, user), LABEL_MAX_CHARS),
    }));
}

/**
 * The menu as one line for a RADIUS Reply-Message or a prompt: labels are shortened until the
 * whole fits one attribute.
 */
export function menuText(entries: readonly MenuEntry[]): string {
  for (let max = LABEL_MAX_CHARS; ; max -= 4) {
    const items = entries.map((e) => `${e.index} ${cleanLabel(e.label, Math.max(max, 1))}`).join(', ');
    const text = `Choose a method: ${items}. Answer with its number, or enter a code.`;
    if (Buffer.byteLength(text, 'utf8') <= MENU_TEXT_MAX_BYTES || max <= 1) return text;
  }
}

/**
 * A menu answer is one or two digits: shorter than any code (6 or 8 digits) or YubiKey OTP, so a
 * code is never read as a pick. Anything else is not a pick.
 */
export function menuPick(pass: string): number | null {
  return /^[0-9]{1,2}$/.test(pass) ? Number(pass) : null;
}

/** Labels come from user data (device names): no control characters, one line, bounded. */
function cleanLabel(label: string, max: number): string {
  const flat = label
    .replace(/[\p{Cc}\p{Cf}\u2028\u2029]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const chars = [...flat];
  // ASCII dots: many NAS front-ends show Reply-Message as Latin-1
  return chars.length <= max ? flat : `${chars.slice(0, Math.max(1, max - 3)).join('')}...`;
}
