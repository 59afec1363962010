type Command = (argv: string[]) => Promise<number>;

/** Each command lives in its own file and is loaded only when it runs. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  serve: { summary: 'run a node', load: async () => (await import('./commands/serve.ts')).run },
  'admin-key': {
    summary: 'admin-key create --name NAME [--role R] [--expires ISO] | list | revoke ID',
    load: async () => (await import('./commands/admin-key.ts')).run,
  },
  console: {
    summary: 'console add-admin --username NAME [--role R] [--password-file F] | list | reset-totp NAME',
    load: async () => (await import('./commands/console.ts')).run,
  },
  user: {
    summary: 'user add|list|show|delete|unlock|import',
    load: async () => (await import('./commands/user.ts')).run,
  },
  token: {
    summary: 'token add|list|resync|import-yubikey',
    load: async () => (await import('./commands/token.ts')).run,
  },
  client: { summary: 'client add|list', load: async () => (await import('./commands/client.ts')).run },
  backup: {
    summary: 'backup create|restore|verify',
    load: async () => (await import('./commands/backup.ts')).run,
  },
  store: {
    summary: "store migrate [--to redis://HOST:PORT]   (this node's embedded store into Redis)",
    load: async () => (await import('./commands/store.ts')).run,
  },
  support: {
    summary: 'support bundle [--out FILE]   (versions, config with secrets masked, status, logs)',
    load: async () => (await import('./commands/support.ts')).run,
  },
  config: {
    summary: 'config [--json]   (the effective TESSERA_* settings, secrets masked)',
    load: async () => (await import('./commands/config.ts')).run,
  },
  cluster: {
    summary: 'cluster status|failover [--to NODE]',
    load: async () => (await import('./commands/cluster.ts')).run,
  },
  audit: {
    summary:
      'audit verify [--stream admin|event] [--from T] [--to T] | rotate-key | export --format csv|jsonl | outputs',
    load: async () => (await import('./commands/audit.ts')).run,
  },
  report: {
    summary: 'report logins-per-day|users-without-device|locked-users|unused-tokens|devices [--format csv]',
    load: async () => (await import('./commands/report.ts')).run,
  },
  'log-level': {
    summary: 'log-level [LEVEL | --reset]   (every node, at run time)',
    load: async () => (await import('./commands/log-level.ts')).run,
  },
  directory: {
    summary: 'directory add|list|test|remove | sync [--source NAME] [--dry-run] [--force]',
    load: async () => (await import('./commands/directory.ts')).run,
  },
  keycloak: {
    summary: 'keycloak setup --keycloak-url URL --realm REALM ...',
    load: async () => (await import('./commands/keycloak.ts')).run,
  },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  tessera ${name.padEnd(10)} ${c.summary}`);
  return `usage:\n${lines.join('\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`tessera: unknown command "${name}"\n${usage()}`);
    return 2;
  }
  try {
    return await (await command.load())(rest);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // the operator at the console gets the reason a store failure keeps out of HTTP answers
    const cause = err instanceof Error && err.cause !== undefined ? ` (${String(err.cause)})` : '';
    process.stderr.write(`tessera ${name}: ${message}${cause}\n`);
    return 1;
  }
}
