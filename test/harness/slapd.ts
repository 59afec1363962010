import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianPackages } from './debian.ts';
import { freePort, StopWaiting, waitFor } from './ports.ts';
import type { TlsMaterial } from './tls.ts';

export const SLAPD_SUFFIX = 'dc=example,dc=org';
export const SLAPD_ROOT_DN = `cn=admin,${SLAPD_SUFFIX}`;

export interface SlapdProcess {
  /** `ldap://127.0.0.1:PORT` */
  url: string;
  /** `ldaps://127.0.0.1:PORT` when started with TLS material. */
  ldapsUrl?: string;
  port: number;
  rootDn: string;
  /** A throw-away password generated per start, for tests only. */
  rootPassword: string;
  suffix: string;
  /** Applies LDIF with ldapadd (`add`) or ldapmodify (`modify`, changetype records), as the root DN. */
  ldif(text: string, mode?: 'add' | 'modify'): void;
  /** SIGSTOP: the port still accepts connections (the kernel does), but nothing answers. */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Established TCP connections to the plain port now (from `ss`), i.e. clients connected. */
  connections(): number;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function config(dir: string, rootPassword: string, tls?: TlsMaterial, databaseLines: string[] = []): string {
  const schema = ['core', 'cosine', 'inetorgperson', 'nis'].map(
    (n) => `include /etc/ldap/schema/${n}.schema`,
  );
  const tlsLines = tls
    ? [
        `TLSCACertificateFile ${tls.caFile}`,
        `TLSCertificateFile ${tls.certFile}`,
        `TLSCertificateKeyFile ${tls.keyFile}`,
      ]
    : [];
  return [
    ...schema,
    `pidfile ${join(dir, 'slapd.pid')}`,
    `argsfile ${join(dir, 'slapd.args')}`,
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    ...tlsLines,
    'database mdb',
    'maxsize 1073741824',
    // a throw-away test directory: no fsync per write (a 50,000-user load takes seconds, not minutes)
    'dbnosync',
    `suffix "${SLAPD_SUFFIX}"`,
    `rootdn "${SLAPD_ROOT_DN}"`,
    `rootpw ${rootPassword}`,
    `directory ${join(dir, 'data')}`,
    'index objectClass eq',
    'index uid eq',
    ...databaseLines,
    // users may bind with their own password; nobody reads another's
    'access to attrs=userPassword by self write by anonymous auth by * none',
    'access to * by * read',
    '',
  ].join('\n');
}

/**
 * Starts OpenLDAP's slapd as a plain process (mdb backend in a temp dir, generated slapd.conf)
 * on free loopback ports, with the base entries `ou=people` and `ou=groups` loaded.
 */
export async function startSlapd(
  opts: {
    tls?: TlsMaterial;
    /** Lines for the database section (e.g. `limits ...` for a service account). */
    databaseLines?: string[];
  } = {},
): Promise<SlapdProcess> {
  ensureDebianPackages(['slapd', 'ldap-utils']);
  const dir = mkdtempSync(join(tmpdir(), 'tessera-slapd-'));
  mkdirSync(join(dir, 'data'));
  const rootPassword = `pw-${Math.random().toString(36).slice(2)}`;
  const confFile = join(dir, 'slapd.conf');
  writeFileSync(confFile, config(dir, rootPassword, opts.tls, opts.databaseLines));
  const port = await freePort();
  const tlsPort = opts.tls ? await freePort() : undefined;
  const url = `ldap://127.0.0.1:${port}`;
  const ldapsUrl = tlsPort ? `ldaps://127.0.0.1:${tlsPort}` : undefined;
  const listen = [`${url}/`, ...(ldapsUrl ? [`${ldapsUrl}/`] : [])].join(' ');
  // -d 0 keeps slapd in the foreground, so the process is ours to stop
  const proc = spawn('/usr/sbin/slapd', ['-d', '0', '-f', confFile, '-h', listen], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  running.add(proc);
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  proc.once('exit', () => running.delete(proc));
  try {
    await waitFor(
      'slapd',
      async () => {
        if (proc.exitCode !== null) throw new StopWaiting(`slapd exited: ${stderr}`);
        return (await listening(port)) && (!tlsPort || (await listening(tlsPort)));
      },
      15_000,
    );
  } catch (e) {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const ldif = (text: string, mode: 'add' | 'modify' = 'add'): void => {
    execFileSync(
      mode === 'add' ? 'ldapadd' : 'ldapmodify',
      ['-x', '-H', url, '-D', SLAPD_ROOT_DN, '-w', rootPassword],
      {
        input: text,
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
  };
  ldif(
    [
      `dn: ${SLAPD_SUFFIX}`,
      'objectClass: dcObject',
      'objectClass: organization',
      'o: Example',
      'dc: example',
      '',
      `dn: ou=people,${SLAPD_SUFFIX}`,
      'objectClass: organizationalUnit',
      'ou: people',
      '',
      `dn: ou=groups,${SLAPD_SUFFIX}`,
      'objectClass: organizationalUnit',
      'ou: groups',
      '',
    ].join('\n'),
  );
  return {
    url,
    ldapsUrl,
    port,
    rootDn: SLAPD_ROOT_DN,
    rootPassword,
    suffix: SLAPD_SUFFIX,
    ldif,
    pause: () => proc.kill('SIGSTOP'),
    resume: () => proc.kill('SIGCONT'),
    connections: () =>
      execFileSync('ss', ['-Htn', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l.trim() !== '').length,
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGCONT');
      if (proc.exitCode === null && proc.signalCode === null) {
        const gone = new Promise<void>((r) => proc.once('exit', () => r()));
        proc.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** LDIF for one inetOrgPerson under ou=people. */
export function personLdif(p: {
  uid: string;
  cn: string;
  mail?: string;
  mobile?: string;
  password?: string;
}): string {
  return [
    `dn: uid=${p.uid},ou=people,${SLAPD_SUFFIX}`,
    'objectClass: inetOrgPerson',
    `uid: ${p.uid}`,
    `cn: ${p.cn}`,
    `sn: ${p.cn.split(' ').pop() ?? p.cn}`,
    ...(p.mail ? [`mail: ${p.mail}`] : []),
    ...(p.mobile ? [`mobile: ${p.mobile}`] : []),
    ...(p.password ? [`userPassword: ${p.password}`] : []),
    '',
  ].join('\n');
}

/** LDIF for one groupOfNames under ou=groups (groupOfNames needs at least one member). */
export function groupLdif(cn: string, memberUids: string[]): string {
  return [
    `dn: cn=${cn},ou=groups,${SLAPD_SUFFIX}`,
    'objectClass: groupOfNames',
    `cn: ${cn}`,
    ...memberUids.map((u) => `member: uid=${u},ou=people,${SLAPD_SUFFIX}`),
    '',
  ].join('\n');
}
