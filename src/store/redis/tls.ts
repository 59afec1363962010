import { readFileSync } from 'node:fs';
import { type ConnectionOptions, connect } from 'node:tls';

/** Files for TLS to Redis and Sentinel (PEM). Certificates are always verified. */
export interface RedisTlsFiles {
  /** The CA(s) that sign the Redis and Sentinel server certificates; the system's CAs when absent. */
  caFile?: string;
  /** A client certificate and its key, for servers that require one (`tls-auth-clients yes`). */
  certFile?: string;
  keyFile?: string;
}

/** The TLS settings of each kind of connection; undefined means plaintext. */
export interface RedisTlsPlan {
  data: ConnectionOptions | undefined;
  sentinel: ConnectionOptions | undefined;
}

function read(what: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new Error(`cannot read the Redis TLS ${what} file ${path} (${code})`);
  }
}

/**
 * Decides where TLS is used. The data nodes use it when the URL is `rediss://` (or, with Sentinels
 * and no URL, when TLS files are given); the Sentinels follow the data nodes unless told otherwise.
 * A `redis://` URL next to TLS files is refused: the operator asked for TLS and would silently get
 * plaintext.
 */
export function planTls(opts: { url?: string; tls?: RedisTlsFiles; sentinelTls?: boolean }): RedisTlsPlan {
  const files = opts.tls ?? {};
  const hasFiles = Boolean(files.caFile || files.certFile || files.keyFile);
  const scheme = opts.url ? new URL(opts.url).protocol : undefined;
  if (scheme && scheme !== 'redis:' && scheme !== 'rediss:')
    throw new Error(`the Redis URL must start with redis:// or rediss:// (not ${scheme}//)`);
  if (scheme === 'redis:' && hasFiles)
    throw new Error('Redis TLS files are set but the Redis URL is redis:// (plaintext); use rediss://');
  if (Boolean(files.certFile) !== Boolean(files.keyFile))
    throw new Error('a Redis TLS client certificate needs its key, and a key its certificate');
  const dataTls = scheme ? scheme === 'rediss:' : hasFiles;
  const sentinelTls = opts.sentinelTls ?? dataTls;
  if (!dataTls && !sentinelTls) return { data: undefined, sentinel: undefined };
  const options: ConnectionOptions = {
    ...(files.caFile ? { ca: read('CA', files.caFile) } : {}),
    ...(files.certFile ? { cert: read('certificate', files.certFile) } : {}),
    ...(files.keyFile ? { key: read('key', files.keyFile) } : {}),
    rejectUnauthorized: true,
  };
  return { data: dataTls ? options : undefined, sentinel: sentinelTls ? { ...options } : undefined };
}

/** Node's codes for a server certificate that was not trusted or does not name the server. */
const CERT_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

const CERT_WORDS =
  /self[- ]signed certificate|unable to (verify|get) .*(certificate|issuer)|certificate (has expired|is not yet valid)|does not match certificate's altnames/i;

/**
 * Why a connection failed, for an operator: a refused certificate says so. Only the first line of
 * the message is kept, and `hide` (the password) is masked if some layer echoed it.
 */
export function explainConnectError(err: unknown, hide: string[] = []): string {
  const e = err as (Error & { code?: string }) | undefined;
  let text = e instanceof Error ? e.message.split('\n')[0]!.slice(0, 300) : String(err);
  for (const secret of hide) if (secret) text = text.split(secret).join('***');
  if ((e?.code && CERT_CODES.has(e.code)) || CERT_WORDS.test(text))
    return `the server's TLS certificate was refused (${text}); check the CA file and the certificate's names`;
  return text;
}

/**
 * One TLS handshake with `host:port`, for the reason a connection failed: ioredis reports a
 * Sentinel it could not reach only as "Connection is closed". Resolves null when the handshake
 * succeeds.
 */
export function probeTls(
  host: string,
  port: number,
  options: ConnectionOptions,
  timeoutMs = 2_000,
): Promise<Error | null> {
  return new Promise((resolve) => {
    const sock = connect({ ...options, host, port });
    const finish = (err: Error | null) => {
      sock.destroy();
      resolve(err);
    };
    sock.setTimeout(timeoutMs, () => finish(new Error(`no TLS handshake within ${timeoutMs} ms`)));
    sock.once('secureConnect', () => finish(null));
    // on, not once: a TLS socket can report a second error (an alert, then the reset) after the first
    sock.on('error', (err) => finish(err));
  });
}
