/** Where a sync is: reading the directory page by page, or writing the changes. */
export interface SyncProgress {
  phase: 'read' | 'write';
  done: number;
  /** Known in the write phase: the changes to write. */
  total?: number;
}

/**
 * A progress line for a terminal: rewritten in place (`\r`), at most every `everyMs`, and only
 * when the stream is a TTY; a log file or a pipe gets nothing but the summary the caller prints.
 */
export function terminalProgress(
  stream: { isTTY?: boolean; write(text: string): unknown },
  label: string,
  everyMs = 200,
  now: () => number = Date.now,
): { update(p: SyncProgress): void; end(): void } {
  if (!stream.isTTY) return { update() {}, end() {} };
  let last = 0;
  let shown = false;
  return {
    update(p) {
      const t = now();
      const final = p.total !== undefined && p.done === p.total;
      if (t - last < everyMs && !final) return;
      last = t;
      shown = true;
      const text =
        p.phase === 'read'
          ? `${label}: read ${p.done} entries`
          : `${label}: wrote ${p.done}/${p.total ?? '?'} changes`;
      stream.write(`\r\x1b[2K${text}`);
    },
    end() {
      if (shown) stream.write('\n');
    },
  };
}
