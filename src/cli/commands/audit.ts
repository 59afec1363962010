import { existsSync } from 'node:fs';
import { AuditKeys, auditKeyPath, CHAINED_STREAMS, describeResult, verifyStream } from '../../audit/index.ts';
import type { AuditStream } from '../../store/index.ts';
import { cliConfig, parse, print, withServices } from '../context.ts';
import { EXPORT_USAGE, runExport } from './audit-export.ts';
import { OUTPUTS_USAGE, runOutputs } from './audit-outputs.ts';

const USAGE =
  'usage: tessera audit verify [--stream admin|event] [--from TIME] [--to TIME]\n' +
  '       tessera audit rotate-key\n' +
  EXPORT_USAGE +
  OUTPUTS_USAGE +
  'TIME: an ISO 8601 time or milliseconds since 1970\n';

/** An ISO time or epoch milliseconds; undefined when not given, NaN when not a time. */
function timeOf(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (/^\d+$/.test(v)) return Number(v);
  const t = Date.parse(v);
  return Number.isNaN(t) ? Number.NaN : t;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    stream: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    format: { type: 'string' },
    out: { type: 'string' },
    syslog: { type: 'string' },
    jsonl: { type: 'string' },
  });
  const [sub] = positionals;
  const keyPath = auditKeyPath(cliConfig().dataDir, cliConfig().auditKeyFile);
  if (sub === 'rotate-key' && positionals.length === 1) {
    if (!existsSync(keyPath)) AuditKeys.loadOrCreate(keyPath);
    print(`new audit key: ${AuditKeys.rotate(keyPath)} (every node must get the new file)`);
    return 0;
  }
  if (sub === 'outputs' && positionals.length === 1)
    return runOutputs({
      ...(values.syslog !== undefined ? { syslog: values.syslog } : {}),
      ...(values.jsonl !== undefined ? { jsonl: values.jsonl } : {}),
    });
  if ((sub !== 'verify' && sub !== 'export') || positionals.length !== 1) {
    process.stderr.write(USAGE);
    return 2;
  }
  const from = timeOf(values.from);
  const to = timeOf(values.to);
  const stream = values.stream;
  if (sub === 'verify' && stream !== undefined && !(CHAINED_STREAMS as readonly string[]).includes(stream)) {
    process.stderr.write(`tessera audit verify: --stream must be one of ${CHAINED_STREAMS.join(', ')}\n`);
    return 2;
  }
  for (const [name, t] of [
    ['--from', from],
    ['--to', to],
  ] as const)
    if (Number.isNaN(t)) {
      process.stderr.write(`tessera audit ${sub}: ${name} is not a time\n${USAGE}`);
      return 2;
    }
  if (from !== undefined && to !== undefined && from > to) {
    process.stderr.write(`tessera audit ${sub}: --from is after --to\n`);
    return 2;
  }
  if (sub === 'export')
    return runExport({
      ...(values.format !== undefined ? { format: values.format } : {}),
      ...(values.stream !== undefined ? { stream: values.stream } : {}),
      ...(values.out !== undefined ? { out: values.out } : {}),
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
    });
  if (!existsSync(keyPath)) {
    process.stderr.write(`tessera audit verify: no audit key at ${keyPath}\n`);
    return 1;
  }
  const keys = AuditKeys.load(keyPath);
  const streams = stream ? [stream as AuditStream] : CHAINED_STREAMS;
  return withServices(async (services) => {
    let broken = false;
    for (const s of streams) {
      const result = await verifyStream(services.store, keys, s, {
        ...(from !== undefined ? { from } : {}),
        ...(to !== undefined ? { to } : {}),
      });
      print(describeResult(result));
      if (!result.ok) broken = true;
    }
    return broken ? 1 : 0;
  });
}
