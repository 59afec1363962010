import {
  type ClientInput,
  type ClientPatch,
  createClient,
  PUSH_HOLD_SECONDS,
  publicClient,
  updateClient,
} from '../../admin/index.ts';
import { CLIENT_KINDS, type ClientKind, METHODS, type Method } from '../../model/index.ts';
import { parse, print, withServices } from '../context.ts';

const USAGE = `usage: tessera client add --name NAME --kind radius|keycloak|api|node [CHOICES]
       tessera client set ID [CHOICES]
       tessera client list
CHOICES: --challenge enabled|disabled   --methods all|${METHODS.join(',')}   --method-choice menu|default
         --push-mode poll|hold|code   --push-hold-seconds 1-120
`;

class Usage extends Error {}

function oneOf<T extends string>(
  flag: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) throw new Usage(`--${flag} must be one of ${allowed.join(', ')}`);
  return value as T;
}

/** `all` lifts a restriction; otherwise a comma list of known methods, each once. */
function methodList(value: string | undefined): Method[] | null | undefined {
  if (value === undefined) return undefined;
  if (value === 'all') return null;
  const names = value.split(',').map((m) => m.trim());
  const bad = names.find((m) => !METHODS.includes(m as Method));
  if (bad !== undefined)
    throw new Usage(`--methods: "${bad}" is not a method (${METHODS.join(', ')}, or all)`);
  return [...new Set(names as Method[])];
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    name: { type: 'string' },
    kind: { type: 'string' },
    'challenge-text': { type: 'string' },
    challenge: { type: 'string' },
    methods: { type: 'string' },
    'method-choice': { type: 'string' },
    'push-mode': { type: 'string' },
    'push-hold-seconds': { type: 'string' },
  });
  if (positionals[0] === 'list') {
    const clients = await withServices((s) => s.store.listClients());
    for (const c of clients) print(JSON.stringify(publicClient(c)));
    return 0;
  }
  try {
    const challenge = oneOf('challenge', values.challenge, ['enabled', 'disabled'] as const);
    const methodChoice = oneOf('method-choice', values['method-choice'], ['menu', 'default'] as const);
    const allowedMethods = methodList(values.methods);
    const challengeText = values['challenge-text'];
    const pushMode = oneOf('push-mode', values['push-mode'], ['poll', 'hold', 'code'] as const);
    const holdText = values['push-hold-seconds'];
    const hold = holdText === undefined ? undefined : Number(holdText);
    if (
      hold !== undefined &&
      !(Number.isInteger(hold) && hold >= PUSH_HOLD_SECONDS.min && hold <= PUSH_HOLD_SECONDS.max)
    )
      throw new Usage(
        `--push-hold-seconds must be a whole number from ${PUSH_HOLD_SECONDS.min} to ${PUSH_HOLD_SECONDS.max}`,
      );
    const choices = {
      ...(pushMode ? { pushMode } : {}),
      ...(hold !== undefined ? { pushHoldSeconds: hold } : {}),
      ...(challenge ? { challenge } : {}),
      ...(methodChoice ? { methodChoice } : {}),
      ...(challengeText ? { challengeText } : {}),
    };
    if (positionals[0] === 'set' && positionals[1]) {
      const id = positionals[1];
      const patch: ClientPatch = { ...choices, ...(allowedMethods !== undefined ? { allowedMethods } : {}) };
      if (Object.keys(patch).length === 0) throw new Usage('client set: nothing to change');
      const client = await withServices((_s, admin) => updateClient(admin, id, patch));
      print(JSON.stringify(publicClient(client)));
      return 0;
    }
    const kind = oneOf('kind', values.kind, CLIENT_KINDS) as ClientKind | undefined;
    if (positionals[0] !== 'add' || !values.name || !kind) throw new Usage('');
    const input: ClientInput = {
      name: values.name,
      kind,
      ...choices,
      ...(allowedMethods ? { allowedMethods } : {}),
    };
    const { client, apiKey } = await withServices((_s, admin) => createClient(admin, input));
    print(`client ${client.id} (${client.kind}) created; its API key (shown once):`);
    print(apiKey);
    return 0;
  } catch (err) {
    if (!(err instanceof Usage)) throw err;
    process.stderr.write(`${err.message ? `${err.message}\n` : ''}${USAGE}`);
    return 2;
  }
}
