import { createClient, publicClient } from '../../admin/index.ts';
import { CLIENT_KINDS, type Client, type ClientKind } from '../../model/index.ts';
import { parse, print, withServices } from '../context.ts';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    name: { type: 'string' },
    kind: { type: 'string' },
    'challenge-text': { type: 'string' },
    'push-mode': { type: 'string' },
    'push-hold-seconds': { type: 'string' },
  });
  if (positionals[0] === 'list') {
    const clients = await withServices((s) => s.store.listClients());
    for (const c of clients) print(JSON.stringify(publicClient(c)));
    return 0;
  }
  const kind = values.kind as ClientKind | undefined;
  const pushMode = values['push-mode'] as Client['pushMode'];
  const hold = values['push-hold-seconds'] === undefined ? undefined : Number(values['push-hold-seconds']);
  if (
    positionals[0] !== 'add' ||
    !values.name ||
    !kind ||
    !CLIENT_KINDS.includes(kind) ||
    (pushMode !== undefined && !['poll', 'hold', 'code'].includes(pushMode)) ||
    (hold !== undefined && !(Number.isInteger(hold) && hold >= 1 && hold <= 120))
  ) {
    process.stderr.write(
      'usage: tessera client add --name NAME --kind radius|keycloak|api|node [--push-mode poll|hold|code] [--push-hold-seconds 1-120] | tessera client list\n',
    );
    return 2;
  }
  const name = values.name;
  const challengeText = values['challenge-text'];
  const { client, apiKey } = await withServices((_s, admin) =>
    createClient(admin, {
      name,
      kind,
      ...(challengeText ? { challengeText } : {}),
      ...(pushMode ? { pushMode } : {}),
      ...(hold !== undefined ? { pushHoldSeconds: hold } : {}),
    }),
  );
  print(`client ${client.id} (${client.kind}) created; its API key (shown once):`);
  print(apiKey);
  return 0;
}
