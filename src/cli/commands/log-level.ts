import { loadSettings, updateLogging } from '../../admin/index.ts';
import type { LoggingLevel } from '../../model/index.ts';
import { LOG_LEVELS } from '../../server/config.ts';
import { parse, print, withServices } from '../context.ts';

const USAGE =
  'usage: tessera log-level              (the level every node runs with)\n' +
  `       tessera log-level LEVEL        (${LOG_LEVELS.join('|')}: every node, at once, no restart)\n` +
  "       tessera log-level --reset      (each node's own TESSERA_LOG_LEVEL again)\n";

/**
 * Shows or sets the run-time log level. It lives in the settings in the store, so every node that
 * reads that store applies it within seconds; the change is audited as `settings.logging` by `cli`.
 */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { reset: { type: 'boolean' } });
  const [level] = positionals;
  if (positionals.length > 1 || (level !== undefined && values.reset)) {
    process.stderr.write(USAGE);
    return 2;
  }
  if (level !== undefined && !(LOG_LEVELS as readonly string[]).includes(level)) {
    process.stderr.write(`tessera log-level: "${level.slice(0, 40)}" is not a level\n${USAGE}`);
    return 2;
  }
  return withServices(async (services, admin) => {
    if (level === undefined && !values.reset) {
      const switched = (await loadSettings(services.store)).logging?.level;
      print(switched ? `${switched} (set at run time)` : "each node's own TESSERA_LOG_LEVEL");
      return 0;
    }
    const after = await updateLogging(admin, { level: values.reset ? null : (level as LoggingLevel) });
    print(
      after.level
        ? `log level: ${after.level} on every node`
        : "log level: each node's own TESSERA_LOG_LEVEL",
    );
    return 0;
  });
}
