// The node: the one configuration loader, the services, and the app that registers the plugin/ faces.

export { buildApp } from './app.ts';
export { type Config, ConfigError, loadConfig } from './config.ts';
export { createLogger } from './logger.ts';
export { bootstrap, createServices, type TesseraServices } from './services.ts';
export { openStore } from './store-factory.ts';
