import { createAdminKey } from '../../admin/index.ts';
import { parse, print, withServices } from '../context.ts';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { name: { type: 'string' } });
  if (positionals[0] !== 'create' || !values.name) {
    process.stderr.write('usage: tessera admin-key create --name NAME\n');
    return 2;
  }
  const name = values.name;
  const { apiKey } = await withServices((_s, admin) => createAdminKey(admin, name));
  print(apiKey);
  return 0;
}
