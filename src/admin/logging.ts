import type { LoggedStream, LoggingLevel, LoggingSettings } from '../model/index.ts';
import { type AdminContext, auditChange } from './context.ts';
import { loadSettings } from './settings.ts';

/** A change of the run-time logging: a value sets it, null gives it back to each node's configuration. */
export interface LoggingPatch {
  level?: LoggingLevel | null;
  syslog?: LoggedStream[] | null;
  jsonl?: LoggedStream[] | null;
}

const FIELDS = ['level', 'syslog', 'jsonl'] as const;

/**
 * Stores the run-time logging in the settings (every node applies them, see src/audit/runtime.ts)
 * and records the change with its before and after as `settings.logging`.
 */
export async function updateLogging(ctx: AdminContext, patch: LoggingPatch): Promise<LoggingSettings> {
  const settings = await loadSettings(ctx.store);
  const before: LoggingSettings = settings.logging ?? {};
  const after: Record<string, unknown> = { ...before };
  for (const f of FIELDS) {
    const v = patch[f];
    if (v === null) delete after[f];
    else if (v !== undefined) after[f] = Array.isArray(v) ? [...new Set(v)] : v;
  }
  const logging = after as LoggingSettings;
  await ctx.store.putSettings({ ...settings, logging });
  auditChange(ctx, 'settings.logging', {}, before, logging);
  return logging;
}
