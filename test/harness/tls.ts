import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianPackages } from './debian.ts';

/** A throw-away CA and the certificates a test needs, as PEM files in a temp dir (never committed). */
export interface TlsMaterial {
  dir: string;
  caFile: string;
  /** Server certificate for 127.0.0.1/localhost, also usable as a client certificate. */
  certFile: string;
  keyFile: string;
  /** A client certificate signed by the same CA. */
  clientCertFile: string;
  clientKeyFile: string;
  /** A second CA that signed nothing here: trusting it alone must fail. */
  otherCaFile: string;
  /** Client options (ioredis `tls`) trusting the CA, with the client certificate. */
  clientTls(): { ca: Buffer; cert: Buffer; key: Buffer };
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

function newCa(dir: string, name: string): void {
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-subj',
      `/CN=Tessera test ${name}`,
    ],
    dir,
  );
}

function newLeaf(dir: string, name: string, usage: string, san?: string): void {
  openssl(
    [
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${name}`,
    ],
    dir,
  );
  writeFileSync(
    join(dir, `${name}.ext`),
    [`extendedKeyUsage=${usage}`, ...(san ? [`subjectAltName=${san}`] : []), ''].join('\n'),
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    ],
    dir,
  );
}

/** Makes a CA, a server certificate for 127.0.0.1 and a client certificate with `openssl`. */
export function makeTlsMaterial(): TlsMaterial {
  ensureDebianPackages(['openssl']);
  const dir = mkdtempSync(join(tmpdir(), 'tessera-tls-'));
  newCa(dir, 'ca');
  newCa(dir, 'other-ca');
  // Redis and Sentinel use one certificate as server and as client (replication, monitoring)
  newLeaf(dir, 'server', 'serverAuth,clientAuth', 'IP:127.0.0.1,DNS:localhost');
  newLeaf(dir, 'client', 'clientAuth');
  const f = (n: string) => join(dir, n);
  return {
    dir,
    caFile: f('ca.pem'),
    certFile: f('server.pem'),
    keyFile: f('server.key'),
    clientCertFile: f('client.pem'),
    clientKeyFile: f('client.key'),
    otherCaFile: f('other-ca.pem'),
    clientTls: () => ({
      ca: readFileSync(f('ca.pem')),
      cert: readFileSync(f('client.pem')),
      key: readFileSync(f('client.key')),
    }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
