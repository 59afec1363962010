// The SMS part of the one configuration loader (src/server/config.ts): how codes reach phones.
import { resolve } from 'node:path';
import type { HttpGatewayConfig } from '../notify/index.ts';
import type { Reader, Variable } from './config.ts';

/** `http`: a generic HTTP gateway; `smtp`: SMTP-to-SMS through the node's mail server. Absent: no SMS. */
export type SmsConfig =
  | { provider: 'http'; http: HttpGatewayConfig }
  | { provider: 'smtp'; addressTemplate: string; timeoutMs: number };

export const SMS_VARIABLES: readonly Variable[] = [
  { name: 'TESSERA_SMS_PROVIDER', allowed: 'http (a generic HTTP gateway) or smtp (SMTP-to-SMS)' },
  {
    name: 'TESSERA_SMS_URL',
    allowed: 'the gateway http(s):// URL; may name {phone}, {digits}, {otp}, {message}',
    secret: 'url',
  },
  { name: 'TESSERA_SMS_METHOD', allowed: 'GET, POST (default) or PUT' },
  {
    name: 'TESSERA_SMS_HEADERS',
    allowed: 'a JSON object of header names to string values (an API key header goes here)',
    secret: 'value',
  },
  { name: 'TESSERA_SMS_BODY_FORMAT', allowed: 'json (default), form or none' },
  {
    name: 'TESSERA_SMS_BODY',
    allowed:
      'the body template as JSON (form: an object of strings); strings may name {phone}, {digits}, {otp}, {message}',
    // gateways often take their API key in the body
    secret: 'value',
  },
  { name: 'TESSERA_SMS_USER', allowed: 'the gateway login for basic auth' },
  { name: 'TESSERA_SMS_PASSWORD', allowed: 'the gateway password for basic auth', secret: 'value' },
  {
    name: 'TESSERA_SMS_SUCCESS_STATUS',
    allowed: 'a comma-separated list of HTTP statuses (default: any 2xx)',
  },
  { name: 'TESSERA_SMS_SUCCESS_MATCH', allowed: 'a regular expression the answer body must match' },
  {
    name: 'TESSERA_SMS_FAILURE_MATCH',
    allowed: 'a regular expression that marks an answer body as a failure',
  },
  { name: 'TESSERA_SMS_TIMEOUT_MS', allowed: 'a positive integer up to 60000 (milliseconds, default 5000)' },
  { name: 'TESSERA_SMS_TLS_VERIFY', allowed: 'true (default) or false' },
  { name: 'TESSERA_SMS_CA_FILE', allowed: "a PEM file of the CA(s) that sign the gateway's certificate" },
  {
    name: 'TESSERA_SMS_SMTP_ADDRESS',
    allowed: 'the SMTP-to-SMS address template naming {phone} or {digits}, e.g. {digits}@sms.example',
  },
];

function regex(r: Reader, name: string): string | undefined {
  return r.text(name, (v) => {
    try {
      new RegExp(v);
      return true;
    } catch {
      return false;
    }
  });
}

function jsonOf(r: Reader, name: string, ok: (v: unknown) => boolean): unknown {
  const text = r.text(name);
  if (text === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    if (ok(v)) return v;
  } catch {}
  return r.reject(name, text);
}

const isStringMap = (v: unknown): v is Record<string, string> =>
  !!v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');

export function smsConfigOf(r: Reader, smtpConfigured: boolean): SmsConfig | undefined {
  // every variable is read (and checked) whatever the provider, so a typo never waits for a switch
  const provider = r.oneOf('TESSERA_SMS_PROVIDER', ['http', 'smtp'] as const);
  const timeoutMs =
    r.number('TESSERA_SMS_TIMEOUT_MS', (n) => Number.isInteger(n) && n > 0 && n <= 60_000) ?? 5000;
  const addressTemplate = r.text(
    'TESSERA_SMS_SMTP_ADDRESS',
    (v) => /\{(phone|digits)\}/.test(v) && !/\s/.test(v),
  );
  const url = r.text('TESSERA_SMS_URL', (v) => {
    try {
      const u = new URL(v.replace(/\{(phone|digits|otp|message)\}/g, 'x'));
      return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
    } catch {
      return false;
    }
  });
  const method = r.oneOf('TESSERA_SMS_METHOD', ['GET', 'POST', 'PUT'] as const) ?? 'POST';
  const headers = (jsonOf(r, 'TESSERA_SMS_HEADERS', isStringMap) as Record<string, string> | undefined) ?? {};
  const format = r.oneOf('TESSERA_SMS_BODY_FORMAT', ['json', 'form', 'none'] as const) ?? 'json';
  const template = jsonOf(r, 'TESSERA_SMS_BODY', (v) => (format === 'form' ? isStringMap(v) : v !== null));
  const user = r.text('TESSERA_SMS_USER');
  const password = r.text('TESSERA_SMS_PASSWORD');
  const statusText = r.text('TESSERA_SMS_SUCCESS_STATUS', (v) =>
    v.split(',').every((s) => /^\s*[1-5]\d\d\s*$/.test(s)),
  );
  const successBody = regex(r, 'TESSERA_SMS_SUCCESS_MATCH');
  const failureBody = regex(r, 'TESSERA_SMS_FAILURE_MATCH');
  const tlsVerify = r.flag('TESSERA_SMS_TLS_VERIFY') ?? true;
  const caFile = r.text('TESSERA_SMS_CA_FILE');
  if (provider === 'smtp') {
    if (!addressTemplate)
      r.problem('TESSERA_SMS_SMTP_ADDRESS', 'TESSERA_SMS_PROVIDER=smtp needs TESSERA_SMS_SMTP_ADDRESS');
    if (!smtpConfigured)
      r.problem('TESSERA_SMS_PROVIDER', 'TESSERA_SMS_PROVIDER=smtp needs TESSERA_SMTP_HOST');
    return addressTemplate ? { provider, addressTemplate, timeoutMs } : undefined;
  }
  if (provider !== 'http') return undefined;
  if (!url) r.problem('TESSERA_SMS_URL', 'TESSERA_SMS_PROVIDER=http needs TESSERA_SMS_URL');
  if (format !== 'none' && template === undefined)
    r.problem('TESSERA_SMS_BODY', `TESSERA_SMS_BODY_FORMAT=${format} needs TESSERA_SMS_BODY`);
  if (user && password === undefined)
    r.problem('TESSERA_SMS_USER', 'TESSERA_SMS_USER needs TESSERA_SMS_PASSWORD or TESSERA_SMS_PASSWORD_FILE');
  if (!url) return undefined;
  return {
    provider,
    http: {
      url,
      method,
      headers,
      body:
        format === 'none'
          ? { format }
          : format === 'form'
            ? { format, template: (template ?? {}) as Record<string, string> }
            : { format, template: template ?? {} },
      successStatus: statusText ? statusText.split(',').map((s) => Number(s.trim())) : [],
      timeoutMs,
      tlsVerify,
      ...(user ? { basicAuth: { user, password: password ?? '' } } : {}),
      ...(successBody ? { successBody } : {}),
      ...(failureBody ? { failureBody } : {}),
      ...(caFile ? { caFile: resolve(caFile) } : {}),
    },
  };
}

type Effective = Record<string, (c: { sms?: SmsConfig }) => string | number | boolean | undefined>;
const http = (c: { sms?: SmsConfig }) => (c.sms?.provider === 'http' ? c.sms.http : undefined);

/** What `tessera config` shows for each TESSERA_SMS_* variable (secrets are masked by the report). */
export const SMS_EFFECTIVE: Effective = {
  TESSERA_SMS_PROVIDER: (c) => c.sms?.provider,
  TESSERA_SMS_URL: (c) => http(c)?.url,
  TESSERA_SMS_METHOD: (c) => http(c)?.method,
  TESSERA_SMS_HEADERS: (c) => {
    const h = http(c)?.headers;
    return h && Object.keys(h).length > 0 ? JSON.stringify(h) : undefined;
  },
  TESSERA_SMS_BODY_FORMAT: (c) => http(c)?.body.format,
  TESSERA_SMS_BODY: (c) => {
    const b = http(c)?.body;
    return b && b.format !== 'none' ? JSON.stringify(b.template) : undefined;
  },
  TESSERA_SMS_USER: (c) => http(c)?.basicAuth?.user,
  TESSERA_SMS_PASSWORD: (c) => http(c)?.basicAuth?.password,
  TESSERA_SMS_SUCCESS_STATUS: (c) => http(c)?.successStatus.join(',') || undefined,
  TESSERA_SMS_SUCCESS_MATCH: (c) => http(c)?.successBody,
  TESSERA_SMS_FAILURE_MATCH: (c) => http(c)?.failureBody,
  TESSERA_SMS_TIMEOUT_MS: (c) => (c.sms?.provider === 'smtp' ? c.sms.timeoutMs : http(c)?.timeoutMs),
  TESSERA_SMS_TLS_VERIFY: (c) => http(c)?.tlsVerify,
  TESSERA_SMS_CA_FILE: (c) => http(c)?.caFile,
  TESSERA_SMS_SMTP_ADDRESS: (c) => (c.sms?.provider === 'smtp' ? c.sms.addressTemplate : undefined),
};
