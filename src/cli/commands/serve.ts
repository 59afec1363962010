import { passwordlessPaths } from '../../auth/index.ts';
import { buildApp } from '../../server/app.ts';
import { loadConfig } from '../../server/config.ts';
import { createLogger } from '../../server/logger.ts';
import { bootstrap, createServices } from '../../server/services.ts';
import { startWarnings } from '../../server/start-warnings.ts';
import { openStore } from '../../server/store-factory.ts';
import type { StoreFormatCheck } from '../../store/format-version.ts';

export async function run(_argv: string[]): Promise<number> {
  const config = loadConfig();
  const opened = await openStore(config);
  const log = createLogger(config);
  // which store format it found, and whether opening it marked or migrated it
  const format = 'format' in opened.store ? (opened.store.format as StoreFormatCheck | null) : null;
  if (format) log.info({ storeFormat: format.found ?? 'unmarked' }, format.note);
  for (const w of startWarnings(config, opened.replication !== null)) log.warn(w.fields, w.message);
  const services = createServices(config, opened, log);
  const app = await buildApp(services, log);
  await bootstrap(services, log);
  for (const w of passwordlessPaths(await services.settings.get(), await services.store.listClients()))
    log.warn({ passwordless: w.path, scope: w.scope, client: w.client?.name }, w.message);
  await app.listen({ host: config.host, port: config.port });
  app.log.info({ store: opened.store.kind, dataDir: config.dataDir }, 'tessera is ready');
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  app.log.info('shutting down');
  // In-flight requests get a grace period; connections still open after it (a caller's keep-alive
  // pool, a stuck client) are cut so a stop never hangs. A second signal cuts them at once.
  const cut = () => app.server.closeAllConnections();
  const timer = setTimeout(cut, STOP_GRACE_MS);
  timer.unref();
  process.once('SIGINT', cut);
  process.once('SIGTERM', cut);
  try {
    await app.close();
  } finally {
    clearTimeout(timer);
  }
  return 0;
}

/** How long a stop waits for in-flight requests before it closes the remaining connections. */
const STOP_GRACE_MS = 5_000;
