import { buildApp } from '../../server/app.ts';
import { loadConfig } from '../../server/config.ts';
import { createLogger } from '../../server/logger.ts';
import { bootstrap, createServices } from '../../server/services.ts';
import { openStore } from '../../server/store-factory.ts';

export async function run(_argv: string[]): Promise<number> {
  const config = loadConfig();
  const store = await openStore(config);
  const log = createLogger(config);
  const services = createServices(config, store, log);
  const app = await buildApp(services, log);
  await bootstrap(services, log);
  await app.listen({ host: config.host, port: config.port });
  app.log.info({ store: store.kind, dataDir: config.dataDir }, 'tessera is ready');
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  app.log.info('shutting down');
  await app.close();
  return 0;
}
