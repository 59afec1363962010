import { type LoggingPatch, loadSettings, updateLogging } from '../../admin/index.ts';
import type { LoggedStream } from '../../model/index.ts';
import { AUDIT_STREAMS } from '../../store/index.ts';
import { print, withServices } from '../context.ts';

export const OUTPUTS_USAGE =
  '       tessera audit outputs [--syslog STREAMS] [--jsonl STREAMS]\n' +
  "         STREAMS: a comma-separated list of auth, admin, event; none; or default (each node's own)\n";

/** `auth,admin` → the list, `none` → [], `default` → null (the node's configuration); else a message. */
function streamsOf(name: string, v: string): LoggedStream[] | null | string {
  if (v === 'default') return null;
  if (v === 'none') return [];
  const list = v.split(',').map((x) => x.trim());
  const bad = list.find((x) => !(AUDIT_STREAMS as readonly string[]).includes(x));
  return bad === undefined
    ? [...new Set(list as LoggedStream[])]
    : `--${name}: "${bad.slice(0, 40)}" is not a stream`;
}

/** Shows or switches, on every node at run time, the streams each audit output sends (audited). */
export async function runOutputs(args: { syslog?: string; jsonl?: string }): Promise<number> {
  const patch: LoggingPatch = {};
  for (const name of ['syslog', 'jsonl'] as const) {
    const v = args[name];
    if (v === undefined) continue;
    const streams = streamsOf(name, v);
    if (typeof streams === 'string') {
      process.stderr.write(`tessera audit outputs: ${streams}\n`);
      return 2;
    }
    patch[name] = streams;
  }
  return withServices(async (services, admin) => {
    const logging = Object.keys(patch).length
      ? await updateLogging(admin, patch)
      : ((await loadSettings(services.store)).logging ?? {});
    for (const name of ['syslog', 'jsonl'] as const) {
      const s = logging[name];
      print(
        `${name}: ${s === undefined ? "each node's own configuration" : s.length ? s.join(',') : 'none'}`,
      );
    }
    return 0;
  });
}
