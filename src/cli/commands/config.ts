import { loadConfig, tesseraVariables } from '../../server/config.ts';
import { configReport, formatReport } from '../../server/config-report.ts';
import { parse, print } from '../context.ts';

/** Prints the configuration `tessera serve` would run with, secrets masked; a bad value fails here too. */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' } });
  if (positionals.length > 0) {
    process.stderr.write('usage: tessera config [--json]\n');
    return 2;
  }
  const config = loadConfig();
  const { set, unknown } = tesseraVariables();
  const lines = configReport(config, set);
  print(
    values.json
      ? JSON.stringify({ variables: lines, ignored: unknown }, null, 2)
      : formatReport(lines, unknown),
  );
  return 0;
}
