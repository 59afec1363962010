import type { AuditEvent } from '../model/index.ts';
import type { AuditStream } from '../store/index.ts';

/**
 * The SD-ID enterprise number: 32473 is the one RFC 5612 reserves for documentation, until the
 * project has its own; a collector matches on the SD-ID name, `tessera@32473`.
 */
export const SD_ID = 'tessera@32473';
const DETAIL_SD_ID = 'detail@32473';

/** Detail fields whose name says secret: never sent, whatever a caller put there. */
const SECRET_NAME = /pass|secret|seed|pin|apikey|api_key|otp|code|key$/i;

export interface SyslogHeader {
  facility: number;
  hostname: string;
  appName: string;
  procId: string;
}

/** RFC 5424 severities: warning for a refused login or a failure, notice for a change. */
export function severityOf(event: AuditEvent, stream: AuditStream): number {
  const failed = event.result !== undefined && event.result !== 'accept' && event.result !== 'ok';
  if (stream === 'auth') return failed ? 4 : 6;
  if (failed || /fail|error/.test(event.type)) return 4;
  return stream === 'admin' ? 5 : 6;
}

/** PARAM-VALUE escaping (RFC 5424 §6.3.3): '"', '\' and ']' get a backslash; no control chars. */
function value(v: string | number | boolean): string {
  return (
    String(v)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
      .replace(/[\u0000-\u001f\u007f]/g, ' ')
      .replace(/["\\\]]/g, (c) => `\\${c}`)
  );
}

/** PARAM-NAME and header fields: printable US-ASCII without '=', ' ', ']', '"', at most `max`. */
function token(v: string, max: number): string {
  const t = v.replace(/[^\x21-\x7e]|[= \]"]/g, '_').slice(0, max);
  return t === '' ? '-' : t;
}

function element(id: string, params: [string, string | number | boolean | undefined][]): string {
  const set = params.filter((p): p is [string, string | number | boolean] => p[1] !== undefined);
  if (set.length === 0) return '';
  return `[${id}${set.map(([k, v]) => ` ${token(k, 32)}="${value(v)}"`).join('')}]`;
}

/** One RFC 5424 message (no framing): header, structured data with the event's fields, a short text. */
export function formatSyslog(event: AuditEvent, stream: AuditStream, h: SyslogHeader): string {
  const pri = h.facility * 8 + severityOf(event, stream);
  const time = new Date(event.time).toISOString();
  const head = `<${pri}>1 ${time} ${token(h.hostname, 255)} ${token(h.appName, 48)} ${token(h.procId, 128)} ${stream}`;
  const main = element(SD_ID, [
    ['type', event.type],
    ['actor', event.actor],
    ['user', event.username],
    ['serial', event.serial],
    ['result', event.result],
    ['reason', event.reason],
    ['src', event.sourceIp],
    ['nasId', event.nasIdentifier],
    ['nasIp', event.nasIpAddress],
  ]);
  const detail = element(
    DETAIL_SD_ID,
    Object.entries(event.detail ?? {}).filter(([k]) => !SECRET_NAME.test(k)),
  );
  const text = [event.type, event.username, event.result, event.reason].filter(Boolean).join(' ');
  return `${head} ${main}${detail} ${text}`;
}
