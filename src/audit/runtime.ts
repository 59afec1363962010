import type { LoggingLevel, LoggingSettings, Settings } from '../model/index.ts';
import type { AuditStream } from '../store/index.ts';
import type { AuditOutputName, AuditOutputs } from './outputs.ts';

/** What a node runs with when no admin switched anything: its own configuration. */
export interface LoggingDefaults {
  level: LoggingLevel;
  streams: Partial<Record<AuditOutputName, readonly AuditStream[]>>;
}

/** What the node applies now, for the logging view. */
export interface LoggingState {
  level: LoggingLevel;
  outputs: { name: AuditOutputName; target: string; streams: AuditStream[] }[];
}

/**
 * Applies the logging settings (level, streams per audit output) on this node while it runs.
 * Settings live in the store, so every node reads the same ones: each node polls its settings
 * cache and applies a change within the cache's lifetime plus one poll, without a restart.
 */
export class LoggingRuntime {
  private timer: NodeJS.Timeout | null = null;
  private applied = '';
  private level: LoggingLevel;

  constructor(
    private readonly settings: () => Promise<Settings>,
    private readonly outputs: AuditOutputs,
    private readonly setLevel: (level: LoggingLevel) => void,
    private readonly defaults: LoggingDefaults,
    private readonly onError: (message: string) => void = () => {},
  ) {
    this.level = defaults.level;
  }

  /** Sets level and streams from `logging` (absent fields: this node's configuration). */
  apply(logging: LoggingSettings | undefined): void {
    const key = JSON.stringify(logging ?? {});
    if (key === this.applied) return;
    this.applied = key;
    const level = logging?.level ?? this.defaults.level;
    if (level !== this.level) {
      this.setLevel(level);
      this.level = level;
    }
    for (const name of ['syslog', 'jsonl'] as const) {
      const streams = logging?.[name] ?? this.defaults.streams[name];
      if (streams) this.outputs.switchStreams(name, streams);
    }
  }

  state(): LoggingState {
    return { level: this.level, outputs: this.outputs.describe() };
  }

  /** Reads the settings now and applies them (also what each poll does). */
  async refresh(): Promise<void> {
    try {
      this.apply((await this.settings()).logging);
    } catch (err) {
      // the store is away: keep what is applied, say why once per poll
      this.onError(err instanceof Error ? err.message : String(err));
    }
  }

  start(pollMs = 1000): void {
    if (this.timer) return;
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
