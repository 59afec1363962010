/**
 * Progress of a long command on the operator's terminal: records done / total and the rate,
 * redrawn in place at most five times a second, only when stderr is a terminal (a log or a pipe
 * gets no control characters). The summary line is written always.
 */
export class Progress {
  private readonly started = Date.now();
  private last = 0;
  private drawn = false;

  constructor(
    private readonly label: string,
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly tty: boolean = Boolean(process.stderr.isTTY),
  ) {}

  update(done: number, total: number, unit = 'records'): void {
    if (!this.tty) return;
    const now = Date.now();
    if (now - this.last < 200 && done < total) return;
    this.last = now;
    const pct = total > 0 ? ` (${Math.min(100, Math.floor((done / total) * 100))}%)` : '';
    const of = total > 0 ? `/${total}` : '';
    this.out.write(`\r\x1b[2K${this.label}: ${done}${of} ${unit}${pct}, ${rate(done, now - this.started)}/s`);
    this.drawn = true;
  }

  /** Ends the line in place and writes the summary (with the elapsed time and the rate). */
  done(summary: string, records?: number): string {
    if (this.drawn) this.out.write('\r\x1b[2K');
    const ms = Date.now() - this.started;
    const line = `${this.label}: ${summary} in ${(ms / 1000).toFixed(1)} s${records !== undefined ? ` (${rate(records, ms)} records/s)` : ''}`;
    this.out.write(`${line}\n`);
    return line;
  }
}

function rate(n: number, ms: number): string {
  return String(Math.round(n / Math.max(ms / 1000, 0.001)));
}
