import { spawn } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';

/** A value as radclient reads it: a string is quoted and escaped; `raw` goes in verbatim (octets, IPs). */
export type AttrValue = string | { raw: string };

export type ReplyCode = 'Access-Accept' | 'Access-Reject' | 'Access-Challenge' | 'no-reply';

export interface RadiusReply {
  code: ReplyCode;
  /** Reply attributes, quotes removed (e.g. State: "0x74...", Reply-Message: "Access denied"). */
  attrs: Record<string, string>;
  /** Reply attribute names in packet order. */
  order: string[];
  elapsedMs: number;
  /** radclient's own output, for failure messages (it never holds the shared secret). */
  transcript: string;
}

export interface RadclientTarget {
  port: number;
  secret: string;
  host?: string;
}

export interface AuthOptions {
  /** Seconds radclient waits for an answer (default 6). */
  timeoutS?: number;
  /** Transmissions in all, the first included (radclient's -r; default 1). */
  tries?: number;
  /** Add Message-Authenticator (default true), as a BlastRADIUS-safe NAS does. */
  messageAuthenticator?: boolean;
}

export function quoteValue(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** The radclient text for one packet. */
export function packetText(attrs: Record<string, AttrValue>, messageAuthenticator = true): string {
  const lines = Object.entries(attrs).map(
    ([name, v]) => `${name} = ${typeof v === 'string' ? quoteValue(v) : v.raw}`,
  );
  if (messageAuthenticator) lines.push('Message-Authenticator = 0x00');
  return `${lines.join('\n')}\n`;
}

function parseReply(out: string): { code: ReplyCode; attrs: Record<string, string>; order: string[] } {
  const m = /Received (Access-(?:Accept|Reject|Challenge)) Id \d+[^\n]*\n((?:\t[^\n]*\n?)*)/.exec(out);
  if (!m) return { code: 'no-reply', attrs: {}, order: [] };
  const attrs: Record<string, string> = {};
  const order: string[] = [];
  for (const line of m[2]!.split('\n')) {
    const a = /^\t([\w-]+) = (.*)$/.exec(line);
    if (!a) continue;
    const raw = a[2]!.trim();
    order.push(a[1]!);
    attrs[a[1]!] =
      raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1).replace(/\\(["\\])/g, '$1') : raw;
  }
  return { code: m[1] as ReplyCode, attrs, order };
}

/** Sends one Access-Request with radclient and reports whatever came back (or that nothing did). */
export function radAuth(
  target: RadclientTarget,
  attrs: Record<string, AttrValue>,
  opts: AuthOptions = {},
): Promise<RadiusReply> {
  const timeout = opts.timeoutS ?? 6;
  const args = [
    '-x',
    '-r',
    String(Math.max(1, opts.tries ?? 1)),
    '-t',
    String(timeout),
    `${target.host ?? '127.0.0.1'}:${target.port}`,
    'auth',
    target.secret,
  ];
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('radclient', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('latin1');
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString('latin1');
    });
    const killer = setTimeout(
      () => child.kill('SIGKILL'),
      (timeout * Math.max(1, opts.tries ?? 1) + 10) * 1000,
    );
    child.on('error', (err) => {
      clearTimeout(killer);
      reject(new Error(`radclient could not run (is freeradius-utils installed?): ${err.message}`));
    });
    child.on('close', () => {
      clearTimeout(killer);
      const transcript = out.split(target.secret).join('<secret>');
      resolve({ ...parseReply(out), elapsedMs: Date.now() - started, transcript });
    });
    child.stdin.end(packetText(attrs, opts.messageAuthenticator ?? true));
  });
}

export interface BulkResult {
  sent: number;
  accepted: number;
  rejected: number;
  lost: number;
  elapsedMs: number;
}

/**
 * Sends every packet in `file` (radclient format, blank-line separated), `parallel` at a time, and
 * counts the answers from radclient's summary (-s).
 */
export function radBulk(
  target: RadclientTarget,
  file: string,
  parallel: number,
  timeoutS = 5,
): Promise<BulkResult> {
  const args = [
    '-q',
    '-s',
    '-r',
    '1',
    '-t',
    String(timeoutS),
    '-p',
    String(parallel),
    '-f',
    file,
    `${target.host ?? '127.0.0.1'}:${target.port}`,
    'auth',
    target.secret,
  ];
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('radclient', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('error', (err) => reject(new Error(`radclient could not run: ${err.message}`)));
    child.on('close', () => {
      const elapsedMs = Date.now() - started;
      const num = (label: string) => Number(new RegExp(`${label}\\s*:\\s*(\\d+)`).exec(out)?.[1] ?? 'NaN');
      const accepted = num('Accepted');
      const rejected = num('Rejected');
      const lost = num('Lost');
      if ([accepted, rejected, lost].some(Number.isNaN)) {
        reject(
          new Error(
            `radclient printed no summary: ${out.split(target.secret).join('<secret>').slice(-1000)}`,
          ),
        );
        return;
      }
      resolve({ sent: accepted + rejected + lost, accepted, rejected, lost, elapsedMs });
    });
  });
}

const RADIUS_CODES: Record<number, ReplyCode> = {
  2: 'Access-Accept',
  3: 'Access-Reject',
  11: 'Access-Challenge',
};

/**
 * One Access-Request built here rather than by radclient, for what radclient cannot send: a
 * User-Password whose bytes are given as they are (e.g. sixteen zero bytes, which the server
 * decodes to an empty password, as a NAS sends for an empty field; radclient drops an empty
 * value). RFC 2865 hiding of the password, a Message-Authenticator, and the reply's authenticator
 * checked. `State` is the hex the reply of radAuth shows (0x...).
 */
export async function rawAccessRequest(
  target: RadclientTarget,
  opts: { user: string; password: Buffer; state?: string; timeoutMs?: number },
): Promise<Pick<RadiusReply, 'code' | 'attrs'>> {
  const secret = Buffer.from(target.secret);
  const id = randomBytes(1)[0]!;
  const authenticator = randomBytes(16);
  const attr = (type: number, value: Buffer) => Buffer.concat([Buffer.from([type, value.length + 2]), value]);
  const padded = Buffer.alloc(Math.max(16, Math.ceil(opts.password.length / 16) * 16));
  opts.password.copy(padded);
  const hidden = Buffer.alloc(padded.length);
  let previous = authenticator;
  for (let i = 0; i < padded.length; i += 16) {
    const key = createHash('md5').update(secret).update(previous).digest();
    for (let j = 0; j < 16; j++) hidden[i + j] = padded[i + j]! ^ key[j]!;
    previous = hidden.subarray(i, i + 16);
  }
  const attrs = [
    attr(1, Buffer.from(opts.user)),
    attr(2, hidden),
    ...(opts.state ? [attr(24, Buffer.from(opts.state.replace(/^0x/, ''), 'hex'))] : []),
    attr(80, Buffer.alloc(16)),
  ];
  const body = Buffer.concat(attrs);
  const packet = Buffer.concat([Buffer.from([1, id, 0, 0]), authenticator, body]);
  packet.writeUInt16BE(packet.length, 2);
  createHmac('md5', secret)
    .update(packet)
    .digest()
    .copy(packet, packet.length - 16);

  const socket = createSocket('udp4');
  try {
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no RADIUS reply')), opts.timeoutMs ?? 6000);
      socket.on('message', (msg) => {
        if (msg[1] !== id) return;
        clearTimeout(timer);
        resolve(msg);
      });
      socket.send(packet, target.port, target.host ?? '127.0.0.1');
    });
    const expected = createHash('md5')
      .update(reply.subarray(0, 4))
      .update(authenticator)
      .update(reply.subarray(20))
      .update(secret)
      .digest();
    if (!expected.equals(reply.subarray(4, 20))) throw new Error('the reply authenticator does not match');
    const out: Record<string, string> = {};
    for (let at = 20; at + 2 <= reply.length; at += reply[at + 1]!) {
      const value = reply.subarray(at + 2, at + reply[at + 1]!);
      if (reply[at] === 18) out['Reply-Message'] = value.toString('utf8');
      if (reply[at] === 24) out['State'] = `0x${value.toString('hex')}`;
      if (reply[at + 1]! < 2) break;
    }
    return { code: RADIUS_CODES[reply[0]!] ?? 'no-reply', attrs: out };
  } finally {
    socket.close();
  }
}
