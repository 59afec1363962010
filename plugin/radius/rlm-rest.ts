// rlm_rest's JSON dialect (FreeRADIUS 3.2, body = 'json') in both directions, as pure functions.
import { isIP } from 'node:net';

/** What an Access-Request says, once it is known to be well formed. */
export interface RadiusAuthRequest {
  user: string;
  pass: string;
  /** The State of a second round, as Tessera minted it (the bytes of its transaction id). */
  transactionId?: string;
  nasIdentifier?: string;
  nasIpAddress?: string;
}

export type ParseResult = { ok: true; request: RadiusAuthRequest } | { ok: false; problem: string };

/** A response value; `do_xlat: false` stops FreeRADIUS from expanding `%{...}` in it. */
export interface RlmValue {
  value: string | number;
  do_xlat: false;
}

export interface RadiusAnswer {
  status: 200 | 204 | 401;
  body?: Record<string, RlmValue>;
}

/** The decision the answer is rendered from (a subset of the validator's outcome). */
export interface Decision {
  result: 'accept' | 'reject' | 'challenge';
  reason: string;
  message?: string;
  transactionId?: string;
  challengeTtlSeconds?: number;
}

export interface ClientPresentation {
  challengeText: string;
  rejectDetail: 'generic' | 'reason';
}

export const GENERIC_REJECT = 'Access denied';

/** RFC 2865: one attribute holds at most 253 octets; User-Password at most 128. */
const MAX_ATTRIBUTE_BYTES = 253;
const MAX_PASSWORD_BYTES = 128;
/** A whole RADIUS packet is at most 4096 octets; hex and JSON framing stay well below this. */
export const MAX_BODY_BYTES = 32 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

class Malformed extends Error {}

function decodeText(raw: Buffer | string | undefined): string {
  if (raw === undefined || raw === null) throw new Malformed('the body is empty');
  if (typeof raw === 'string') return raw;
  if (raw.length > MAX_BODY_BYTES) throw new Malformed('the body is too large');
  try {
    return utf8.decode(raw);
  } catch {
    throw new Malformed('the body is not UTF-8');
  }
}

function parseObject(text: string): Record<string, unknown> {
  if (text.length === 0) throw new Malformed('the body is empty');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Malformed('the body is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Malformed('the body is not a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/**
 * The single value of an attribute, or undefined when it is absent. rlm_rest always sends
 * `{"type": ..., "value": [...]}`; a bare scalar is tolerated for hand-written callers.
 */
function single(body: Record<string, unknown>, name: string): string | number | undefined {
  if (!Object.hasOwn(body, name)) return undefined;
  const attr = body[name];
  let values: unknown;
  if (typeof attr === 'string' || typeof attr === 'number') values = [attr];
  else if (typeof attr === 'object' && attr !== null && !Array.isArray(attr))
    values = (attr as { value?: unknown }).value;
  if (!Array.isArray(values)) throw new Malformed(`${name} has no value list`);
  if (values.length !== 1) throw new Malformed(`${name} must have exactly one value`);
  const v: unknown = values[0];
  if (typeof v !== 'string' && typeof v !== 'number') throw new Malformed(`${name} is not a string`);
  return v;
}

/** Lone surrogates (from `\ud800` escapes) and control characters have no place in these fields. */
function cleanText(name: string, value: string, maxBytes: number): string {
  if (Buffer.byteLength(value, 'utf8') > maxBytes)
    throw new Malformed(`${name} is longer than ${maxBytes} bytes`);
  if (/[\ud800-\udfff]/u.test(value)) throw new Malformed(`${name} is not valid Unicode`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new Malformed(`${name} holds control characters`);
  return value;
}

/**
 * rlm_rest (3.2) writes every byte of a string above 0x7e as its own `\u00XX` escape, so a UTF-8
 * name arrives as one character per byte ("ｄ" as "ï½\u0084"): read that way, an enrolled
 * "müller" would be an unknown user. Text made only of such characters that forms valid UTF-8 is
 * turned back into its characters; anything else (a hand-written caller's real text) is kept.
 */
export function fromRlmBytes(value: string): string {
  if (!/[\u0080-\u00ff]/.test(value) || /[\u0100-\uffff]/.test(value)) return value;
  try {
    return utf8.decode(Buffer.from(value, 'latin1'));
  } catch {
    return value;
  }
}

function text(body: Record<string, unknown>, name: string, maxBytes: number): string | undefined {
  const v = single(body, name);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new Malformed(`${name} is not a string`);
  return cleanText(name, fromRlmBytes(v), maxBytes);
}

/**
 * rlm_rest sends octets as `0x<hex>`. A State Tessera minted is the UTF-8 of its transaction id;
 * anything else (another server's binary State) is kept as its hex, which matches no challenge.
 */
function stateToTransactionId(value: string | number): string {
  if (typeof value !== 'string') throw new Malformed('State is not octets');
  const m = /^0x((?:[0-9a-fA-F]{2})+)$/.exec(value);
  if (!m) throw new Malformed('State is not hex octets');
  const bytes = Buffer.from(m[1]!, 'hex');
  if (bytes.length > MAX_ATTRIBUTE_BYTES) throw new Malformed('State is too long');
  try {
    const decoded = utf8.decode(bytes);
    return /^[\x21-\x7e]+$/.test(decoded) ? decoded : value.toLowerCase();
  } catch {
    return value.toLowerCase();
  }
}

function nasIp(body: Record<string, unknown>): string | undefined {
  for (const name of ['NAS-IP-Address', 'NAS-IPv6-Address']) {
    const v = single(body, name);
    if (typeof v === 'string' && isIP(v) !== 0) return v;
  }
  return undefined;
}

/** Reads an rlm_rest `body = 'json'` request. Anything malformed is a problem, never an exception. */
export function parseAuthBody(raw: Buffer | string | undefined): ParseResult {
  try {
    const body = parseObject(decodeText(raw));
    const user = text(body, 'User-Name', MAX_ATTRIBUTE_BYTES);
    if (user === undefined || user.length === 0) throw new Malformed('User-Name is missing');
    // The password may legitimately be empty (a first round that asks for the code).
    const pass = single(body, 'User-Password');
    if (pass === undefined) throw new Malformed('User-Password is missing (only PAP can carry a code)');
    const request: RadiusAuthRequest = {
      user,
      pass: cleanText('User-Password', fromRlmBytes(String(pass)), MAX_PASSWORD_BYTES),
    };
    const state = single(body, 'State');
    if (state !== undefined) request.transactionId = stateToTransactionId(state);
    const nasIdentifier = text(body, 'NAS-Identifier', MAX_ATTRIBUTE_BYTES);
    if (nasIdentifier) request.nasIdentifier = nasIdentifier;
    const ip = nasIp(body);
    if (ip) request.nasIpAddress = ip;
    return { ok: true, request };
  } catch (err) {
    if (err instanceof Malformed) return { ok: false, problem: err.message };
    throw err;
  }
}

function literal(value: string | number): RlmValue {
  return { value, do_xlat: false };
}

export function stateOctets(transactionId: string): string {
  return `0x${Buffer.from(transactionId, 'utf8').toString('hex')}`;
}

export function rejectText(
  decision: Pick<Decision, 'reason' | 'message'>,
  client: ClientPresentation,
): string {
  if (client.rejectDetail !== 'reason') return GENERIC_REJECT;
  const message = decision.message?.trim();
  return message ? `${message} (${decision.reason})` : `${GENERIC_REJECT} (${decision.reason})`;
}

export function renderReject(
  decision: Pick<Decision, 'reason' | 'message'>,
  client: ClientPresentation,
): RadiusAnswer {
  return { status: 401, body: { 'reply:Reply-Message': literal(rejectText(decision, client)) } };
}

/**
 * The answer rlm_rest turns into a RADIUS reply: 204 accept, 200 challenge, 401 reject. Every
 * value goes out with `do_xlat: false`, so no text reaches FreeRADIUS's template expander.
 */
export function renderDecision(decision: Decision, client: ClientPresentation): RadiusAnswer {
  switch (decision.result) {
    case 'accept':
      return { status: 204 };
    case 'challenge': {
      if (!decision.transactionId) return renderReject({ reason: decision.reason }, client);
      const body: Record<string, RlmValue> = {
        'reply:Reply-Message': literal(decision.message || client.challengeText),
        'reply:State': literal(stateOctets(decision.transactionId)),
        'control:Response-Packet-Type': literal('Access-Challenge'),
      };
      if (decision.challengeTtlSeconds && decision.challengeTtlSeconds > 0) {
        body['reply:Session-Timeout'] = literal(Math.ceil(decision.challengeTtlSeconds));
      }
      return { status: 200, body };
    }
    default:
      return renderReject(decision, client);
  }
}
