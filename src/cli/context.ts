import { readFileSync } from 'node:fs';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { AdminContext } from '../admin/index.ts';
import { type Config, loadConfig } from '../server/config.ts';
import { createLogger } from '../server/logger.ts';
import { createServices, type TesseraServices } from '../server/services.ts';
import { openStore } from '../server/store-factory.ts';
import { within } from '../store/within.ts';

let loaded: Config | undefined;

/** The configuration, read and validated once per run; the CLI logs at warn unless told otherwise. */
export function cliConfig(): Config {
  loaded ??= loadConfig(undefined, { logLevel: 'warn' });
  return loaded;
}

/**
 * Runs an admin action straight against the node's store (the data directory, or the Redis that
 * TESSERA_REDIS_URL names), with the same key ring and rules as the server. Audited as `cli`.
 */
export async function withServices<T>(
  fn: (services: TesseraServices, admin: AdminContext) => Promise<T>,
): Promise<T> {
  const config = cliConfig();
  const services = createServices(config, await openStore(config), createLogger(config));
  try {
    return await fn(services, services.admin('cli'));
  } finally {
    await closeWithin(services, CLOSE_WITHIN_MS);
  }
}

/** How long a command waits for its store to close (a Redis master that just moved, say). */
const CLOSE_WITHIN_MS = 10_000;

async function closeWithin(services: TesseraServices, ms: number): Promise<void> {
  if (
    (await within(
      services.close().then(() => true),
      ms,
    )) === undefined
  )
    process.stderr.write(`tessera: the store did not close within ${ms / 1000} s; going on\n`);
}

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
  return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
}

export function readSecretFile(path: string): string {
  return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
}

export function print(text: string): void {
  process.stdout.write(`${text}\n`);
}
