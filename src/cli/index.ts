// The `tessera` command: serve, keys, users, tokens, clients, and the operations commands.
export { main } from './main.ts';
