import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Client, InvalidCredentialsError, InvalidDNSyntaxError, NoSuchObjectError } from 'ldapts';
import { type StoredDirectorySource, TesseraError } from '../model/index.ts';

function tlsOptions(source: StoredDirectorySource): ConnectionOptions {
  // the CA is read per connection so that a renewed CA file is taken up without a restart
  return source.caFile
    ? { ca: readFileSync(source.caFile), minVersion: 'TLSv1.2' }
    : { minVersion: 'TLSv1.2' };
}

/** A connected client (StartTLS done when asked for); not bound yet. The caller must `unbind()`. */
export async function openClient(source: StoredDirectorySource): Promise<Client> {
  const client = new Client({
    url: source.url,
    timeout: source.timeoutMs,
    connectTimeout: source.connectTimeoutMs,
    // ldapts speaks TLS from the first byte whenever tlsOptions are given, even for ldap://
    ...(source.url.startsWith('ldaps:') ? { tlsOptions: tlsOptions(source) } : {}),
    strictDN: true,
  });
  if (source.startTls) {
    try {
      await client.startTLS(tlsOptions(source));
    } catch (e) {
      await client.unbind().catch(() => {});
      throw classify(e);
    }
  }
  return client;
}

const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|CERT_|HOSTNAME_)/;

/**
 * Turns what ldapts or the socket threw into one stable code. The message says what failed and
 * never repeats the server's text (which can echo a DN or a filter) or any password.
 */
export function classify(e: unknown): TesseraError {
  if (e instanceof TesseraError) return e;
  if (e instanceof InvalidCredentialsError) {
    return new TesseraError('DIRECTORY_BAD_CREDENTIALS', 'the directory refused the bind DN and password');
  }
  if (e instanceof NoSuchObjectError || e instanceof InvalidDNSyntaxError) {
    return new TesseraError('DIRECTORY_BAD_BASE_DN', 'the base DN does not exist in the directory');
  }
  const code = (e as { code?: unknown })?.code;
  const message = e instanceof Error ? e.message : String(e);
  if ((typeof code === 'string' && TLS_CODES.test(code)) || /certificate|tls|ssl/i.test(message)) {
    return new TesseraError(
      'DIRECTORY_TLS',
      'the TLS handshake with the directory failed (certificate or protocol)',
    );
  }
  if (/filter/i.test(message) || /parse/i.test(message)) {
    return new TesseraError('DIRECTORY_BAD_FILTER', 'the search filter is not valid LDAP filter syntax');
  }
  return new TesseraError(
    'DIRECTORY_UNREACHABLE',
    'the directory did not answer (connection refused, closed or timed out)',
  );
}

/** Runs `work` on a client bound as the source's service account; always unbinds. */
export async function withServiceBind<T>(
  source: StoredDirectorySource,
  password: string,
  work: (client: Client) => Promise<T>,
): Promise<T> {
  let client: Client | undefined;
  try {
    client = await openClient(source);
    await client.bind(source.bindDn, password);
    return await work(client);
  } catch (e) {
    throw classify(e);
  } finally {
    await client?.unbind().catch(() => {});
  }
}
