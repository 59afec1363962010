import { createWriteStream, renameSync } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EXPORT_FORMATS, type ExportFormat, exportAudit } from '../../audit/index.ts';
import { AUDIT_STREAMS, type AuditStream } from '../../store/index.ts';
import { withServices } from '../context.ts';

export const EXPORT_USAGE =
  '       tessera audit export --format csv|jsonl [--stream auth|admin|event] [--from TIME] [--to TIME] [--out FILE]\n';

export interface ExportArgs {
  format?: string;
  stream?: string;
  out?: string;
  from?: number;
  to?: number;
}

/**
 * Writes the trail to FILE (through FILE.tmp, renamed when complete, so a half export never looks
 * whole) or to stdout, a page at a time with the writer's back-pressure: bounded memory.
 */
export async function runExport(args: ExportArgs): Promise<number> {
  const format = EXPORT_FORMATS.find((f) => f === args.format);
  if (!format) {
    process.stderr.write(`tessera audit export: --format must be one of ${EXPORT_FORMATS.join(', ')}\n`);
    return 2;
  }
  const stream = AUDIT_STREAMS.find((s) => s === args.stream);
  if (args.stream !== undefined && !stream) {
    process.stderr.write(`tessera audit export: --stream must be one of ${AUDIT_STREAMS.join(', ')}\n`);
    return 2;
  }
  return withServices(async (services) => {
    const lines = exportAudit(services.store, query(stream, args), format as ExportFormat);
    const out: Writable = args.out ? createWriteStream(`${args.out}.tmp`, { mode: 0o600 }) : process.stdout;
    await pipeline(Readable.from(lines), out, { end: args.out !== undefined });
    if (args.out) renameSync(`${args.out}.tmp`, args.out);
    return 0;
  });
}

function query(stream: AuditStream | undefined, a: ExportArgs) {
  return {
    ...(stream ? { stream } : {}),
    ...(a.from !== undefined ? { from: a.from } : {}),
    ...(a.to !== undefined ? { to: a.to } : {}),
  };
}
