import { createClient, publicClient } from '../../admin/index.ts';
import { CLIENT_KINDS, type ClientKind } from '../../model/index.ts';
import { parse, print, withServices } from '../context.ts';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    name: { type: 'string' },
    kind: { type: 'string' },
    'challenge-text': { type: 'string' },
  });
  if (positionals[0] === 'list') {
    const clients = await withServices((s) => s.store.listClients());
    for (const c of clients) print(JSON.stringify(publicClient(c)));
    return 0;
  }
  const kind = values.kind as ClientKind | undefined;
  if (positionals[0] !== 'add' || !values.name || !kind || !CLIENT_KINDS.includes(kind)) {
    process.stderr.write(
      'usage: tessera client add --name NAME --kind radius|keycloak|api|node | tessera client list\n',
    );
    return 2;
  }
  const name = values.name;
  const challengeText = values['challenge-text'];
  const { client, apiKey } = await withServices((_s, admin) =>
    createClient(admin, { name, kind, ...(challengeText ? { challengeText } : {}) }),
  );
  print(`client ${client.id} (${client.kind}) created; its API key (shown once):`);
  print(apiKey);
  return 0;
}
