// Tessera for other projects' CI (testcontainers): one node, or a master/replica pair on a network.
export { StartedTesseraCluster, TesseraClusterContainers } from './cluster.ts';
export type { ClientKind, SeedToken, SeedUser } from './seed.ts';
export {
  DEFAULT_CLIENT,
  StartedTesseraContainer,
  TESSERA_PORT,
  TesseraContainer,
} from './tessera-container.ts';
