import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian packages that the whole test suite needs, and one file each proves it is installed. */
export const REQUIRED_PACKAGES: Record<string, string> = {
  'redis-server': '/usr/bin/redis-server',
  'redis-sentinel': '/usr/bin/redis-sentinel',
  'redis-tools': '/usr/bin/redis-cli',
  freeradius: '/usr/sbin/freeradius',
  'freeradius-rest': '/usr/lib/freeradius/rlm_rest.so',
  'freeradius-utils': '/usr/bin/radclient',
  chromium: '/usr/bin/chromium',
  rsyslog: '/usr/sbin/rsyslogd',
  slapd: '/usr/sbin/slapd',
  'ldap-utils': '/usr/bin/ldapadd',
  // ykgenerate: Yubico's own OTP generator, the cross-check of the YubiKey tests
  'libyubikey-dev': '/usr/bin/ykgenerate',
  // its one file has an architecture in its path: the harness asks dpkg instead
  'rsyslog-gnutls': '',
};

function missing(packages: string[]): string[] {
  return packages.filter((p) => {
    const proof = REQUIRED_PACKAGES[p];
    if (proof) return !existsSync(proof);
    return (
      spawnSync('dpkg-query', ['-W', `-f=${'$'}{Status}`, p], { encoding: 'utf8' }).stdout.indexOf(
        'installed',
      ) < 0
    );
  });
}

/**
 * Installs the Debian packages that are missing (as root, with apt-get), or throws an error naming
 * them. Tests call this rather than skip: a missing component is a failure, never a pass.
 */
export function ensureDebianPackages(packages: string[]): void {
  const need = missing(packages);
  if (need.length === 0) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    throw new Error(
      `missing Debian packages: ${need.join(', ')} (run as root or: sudo apt-get install -y ${need.join(' ')})`,
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...need], {
      env,
      stdio: 'pipe',
    });
  } catch {
    execFileSync('apt-get', ['update', '-qq'], { env, stdio: 'pipe' });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...need], {
      env,
      stdio: 'pipe',
    });
  }
  const still = missing(packages);
  if (still.length > 0) throw new Error(`could not install Debian packages: ${still.join(', ')}`);
}
