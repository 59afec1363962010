// The mail and portal part of the one configuration loader (src/server/config.ts).
import { resolve } from 'node:path';
import { isTemplateName, type NotifyConfig, type TemplateName } from '../notify/index.ts';
import type { Reader } from './config.ts';

export type MailConfig = NotifyConfig;

export interface PortalConfig {
  /** Where /portal/ is reached by people (links in mails end up here). */
  url: string;
  /** How long an invitation link works. */
  invitationTtlMs: number;
}

/** `addr@host` or `Name <addr@host>`, one line. */
function isAddress(v: string): boolean {
  return /^([^<>\r\n]*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+)$/.test(v.trim());
}

export function mailConfigOf(r: Reader): MailConfig {
  const host = r.text('TESSERA_SMTP_HOST', (v) => !/\s/.test(v));
  const security = r.oneOf('TESSERA_SMTP_SECURITY', ['starttls', 'tls', 'none'] as const) ?? 'starttls';
  const port =
    r.number('TESSERA_SMTP_PORT', (n) => Number.isInteger(n) && n >= 1 && n <= 65535) ??
    (security === 'tls' ? 465 : 587);
  const user = r.text('TESSERA_SMTP_USER');
  // TESSERA_SMTP_PASSWORD_FILE is the generic NAME_FILE of every secret (config.ts)
  const password = r.text('TESSERA_SMTP_PASSWORD');
  const caFile = r.text('TESSERA_SMTP_CA_FILE');
  const timeoutMs = r.number('TESSERA_SMTP_TIMEOUT_MS', (n) => Number.isInteger(n) && n > 0) ?? 10_000;
  const from = r.text('TESSERA_MAIL_FROM', isAddress);
  const templateDir = r.text('TESSERA_MAIL_TEMPLATE_DIR');
  const disabledRaw = r.raw('TESSERA_MAIL_DISABLED');
  const disabled: TemplateName[] = [];
  for (const name of (disabledRaw ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    if (isTemplateName(name)) disabled.push(name);
    else r.reject('TESSERA_MAIL_DISABLED', disabledRaw ?? '');
  }
  const adminsRaw = r.raw('TESSERA_MAIL_ADMINS');
  const adminAddresses = (adminsRaw ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  if (adminsRaw && !adminAddresses.every(isAddress)) r.reject('TESSERA_MAIL_ADMINS', adminsRaw);
  if (host && !from) r.problem('TESSERA_MAIL_FROM', 'TESSERA_MAIL_FROM is needed with TESSERA_SMTP_HOST');
  if (user && password === undefined)
    r.problem(
      'TESSERA_SMTP_USER',
      'TESSERA_SMTP_USER needs TESSERA_SMTP_PASSWORD or TESSERA_SMTP_PASSWORD_FILE',
    );
  return {
    disabled,
    adminAddresses,
    ...(templateDir ? { templateDir: resolve(templateDir) } : {}),
    ...(host && from
      ? {
          smtp: {
            host,
            port,
            security,
            from,
            timeoutMs,
            ...(user ? { user } : {}),
            ...(password !== undefined ? { password } : {}),
            ...(caFile ? { caFile: resolve(caFile) } : {}),
          },
        }
      : {}),
  };
}

export function portalConfigOf(r: Reader, nodeUrl: string): PortalConfig {
  const url = r.url('TESSERA_PORTAL_URL', ['http:', 'https:']) ?? `${nodeUrl.replace(/\/+$/, '')}/portal/`;
  const hours = r.number('TESSERA_INVITATION_TTL_HOURS', (n) => n > 0 && n <= 24 * 90) ?? 72;
  return { url: url.endsWith('/') ? url : `${url}/`, invitationTtlMs: Math.round(hours * 3_600_000) };
}
