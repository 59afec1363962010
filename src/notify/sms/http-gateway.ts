import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { fill, fillJson, type Placeholders } from './placeholders.ts';
import {
  type CodeMessage,
  type DeliveryFailed,
  type DeliveryResult,
  errorCode,
  normalPhone,
  type SmsSender,
  withDeadline,
} from './types.ts';

/** A generic HTTP SMS gateway (TESSERA_SMS_*; see src/server/config-sms.ts). */
export interface HttpGatewayConfig {
  /** May name `{phone}`, `{digits}`, `{otp}`, `{message}`; each is URL-encoded where it lands. */
  url: string;
  method: 'GET' | 'POST' | 'PUT';
  /** Sent as they are (an API key header is a secret: never logged). */
  headers: Record<string, string>;
  /**
   * `json`: the template (any JSON) with placeholders filled inside its strings; `form`: the
   * template's fields, filled, as application/x-www-form-urlencoded; `none`: no body.
   */
  body:
    | { format: 'json'; template: unknown }
    | { format: 'form'; template: Record<string, string> }
    | { format: 'none' };
  basicAuth?: { user: string; password: string };
  /** Statuses that mean sent; any 2xx when empty. */
  successStatus: number[];
  /** When set, the answer's body must match it too (a regular expression). */
  successBody?: string;
  /** A body that matches it is a failure even with a success status (gateways that answer 200 {"error":…}). */
  failureBody?: string;
  /** The whole exchange, connect to last byte. */
  timeoutMs: number;
  /** false: any certificate is taken (a test gateway); true by default. */
  tlsVerify: boolean;
  /** PEM of the CA(s) that sign the gateway's certificate, when not a public one. */
  caFile?: string;
}

/** Enough of an answer to match on; the rest is not read. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** Sends codes through an HTTP gateway; never throws, never waits past `timeoutMs`. */
export function httpGateway(config: HttpGatewayConfig): SmsSender {
  const url = new URL(fill(config.url, { phone: '', digits: '', otp: '', message: '' }));
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error('the SMS gateway URL must be http(s)');
  const ca = config.caFile ? readFileSync(config.caFile, 'utf8') : undefined;
  const success = config.successBody ? new RegExp(config.successBody) : null;
  const failure = config.failureBody ? new RegExp(config.failureBody) : null;
  return {
    kind: 'http',
    async send(phone: string, message: CodeMessage): Promise<DeliveryResult> {
      const normal = normalPhone(phone);
      if (!normal) return { ok: false, why: 'refused', detail: 'not a phone number' };
      const values: Placeholders = {
        phone: normal,
        digits: normal.replace(/^\+/, ''),
        otp: message.otp,
        message: message.text,
      };
      const controller = new AbortController();
      const result = await withDeadline(exchange(config, values, ca, controller.signal), config.timeoutMs);
      controller.abort();
      if (!result.ok) return result;
      return judge(result.answer, config, success, failure);
    },
  };
}

interface Answer {
  status: number;
  body: string;
}

type Exchanged = { ok: true; answer: Answer } | DeliveryFailed;

function judge(
  answer: Answer,
  config: HttpGatewayConfig,
  success: RegExp | null,
  failure: RegExp | null,
): DeliveryResult {
  const statusOk =
    config.successStatus.length > 0
      ? config.successStatus.includes(answer.status)
      : answer.status >= 200 && answer.status < 300;
  if (!statusOk) return { ok: false, why: 'refused', detail: `HTTP ${answer.status}` };
  if (failure?.test(answer.body))
    return { ok: false, why: 'refused', detail: `HTTP ${answer.status}, failure body` };
  if (success && !success.test(answer.body))
    return { ok: false, why: 'refused', detail: `HTTP ${answer.status}, no success body` };
  return { ok: true };
}

function bodyOf(config: HttpGatewayConfig, values: Placeholders): { type: string; data: string } | null {
  switch (config.body.format) {
    case 'json':
      return { type: 'application/json', data: JSON.stringify(fillJson(config.body.template, values)) };
    case 'form': {
      const form = new URLSearchParams();
      for (const [k, v] of Object.entries(config.body.template))
        form.append(fill(k, values), fill(v, values));
      return { type: 'application/x-www-form-urlencoded', data: form.toString() };
    }
    case 'none':
      return null;
  }
}

function exchange(
  config: HttpGatewayConfig,
  values: Placeholders,
  ca: string | undefined,
  signal: AbortSignal,
): Promise<Exchanged> {
  const url = new URL(fill(config.url, values, encodeURIComponent));
  const body = bodyOf(config, values);
  const headers: Record<string, string> = { ...config.headers };
  if (body) {
    headers['content-type'] ??= body.type;
    headers['content-length'] = String(Buffer.byteLength(body.data));
  }
  if (config.basicAuth) {
    const { user, password } = config.basicAuth;
    headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  }
  const options: RequestOptions & { rejectUnauthorized?: boolean; ca?: string } = {
    method: config.method,
    headers,
    signal,
    ...(url.protocol === 'https:' ? { rejectUnauthorized: config.tlsVerify, ...(ca ? { ca } : {}) } : {}),
  };
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<Exchanged>((resolve) => {
    const req = send(url, options, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size < MAX_ANSWER_BYTES) chunks.push(chunk);
        size += chunk.length;
      });
      res.on('end', () =>
        resolve({
          ok: true,
          answer: {
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8'),
          },
        }),
      );
      res.on('error', (err) => resolve({ ok: false, why: 'unreachable', detail: errorCode(err) }));
    });
    req.on('error', (err) => resolve({ ok: false, why: 'unreachable', detail: errorCode(err) }));
    req.end(body?.data);
  });
}
