import { readFileSync } from 'node:fs';

/**
 * The program's one version (package.json's, read once): OpenAPI info, cluster status, snapshots.
 * Read at run time rather than imported as JSON, so the sources run without a build step.
 */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
