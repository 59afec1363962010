import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'vitest';

const GUARD = fileURLToPath(new URL('./exit-guard.ts', import.meta.url));

/** A process that sets its exit code, leaves `leftOpen` open, and arms the guard. */
function run(leftOpen: string): { status: number | null; stderr: string; ms: number } {
  const script = `
    const { exitWhenDone } = await import(${JSON.stringify(GUARD)});
    ${leftOpen}
    process.exitCode = 3;
    exitWhenDone(300);
  `;
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: r.status, stderr: r.stderr, ms: Date.now() - started };
}

describe('a finished command does not hang on what it left open', () => {
  test('a server left listening: the process names it and exits with the command’s code', () => {
    const r = run(`(await import('node:net')).createServer().listen(0, '127.0.0.1');`);
    assert.equal(r.status, 3);
    assert.match(r.stderr, /still open 0\.3 s after the command finished \(.*TCPServerWrap.*\); exiting/);
  });

  test('nothing left open: the process exits at once and says nothing', () => {
    const r = run('');
    assert.equal(r.status, 3);
    assert.equal(r.stderr, '');
  });
});
