// Installs (as root) the Debian components the suite needs, once, before tests run in parallel.
import { ensureDebianPackages, REQUIRED_PACKAGES } from './debian.ts';

const started = Date.now();
ensureDebianPackages(Object.keys(REQUIRED_PACKAGES));
console.log(`# provisioned Debian packages in ${Date.now() - started} ms`);
