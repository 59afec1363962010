import { spawn } from 'node:child_process';

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
