// Schemathesis (the OpenAPI fuzzer, from PyPI) in a private venv under ~/.cache/tessera-test, and a
// runner that spawns its CLI against a node and keeps what it printed.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianPackages } from './debian.ts';

const REQUIREMENTS = join(import.meta.dirname, 'schemathesis-requirements.txt');
const CACHE_DIR = join(homedir(), '.cache', 'tessera-test');

function pinnedVersion(): string {
  const m = /^schemathesis==(\S+)$/m.exec(readFileSync(REQUIREMENTS, 'utf8'));
  if (!m) throw new Error(`${REQUIREMENTS} pins no schemathesis version`);
  return m[1]!;
}

function run(cmd: string, args: string[], timeoutMs = 600_000): { ok: boolean; out: string } {
  const res = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
  return { ok: res.status === 0, out: `${res.stdout ?? ''}${res.stderr ?? ''}${res.error?.message ?? ''}` };
}

/** A python3 of 3.10 or later (schemathesis 4 needs it), or an error naming what is missing. */
function python(): string {
  const probe = () => run('python3', ['-c', 'import sys, venv; print(sys.version_info >= (3, 10))']);
  let res = probe();
  if (!res.ok || res.out.trim() !== 'True') {
    // Debian splits the venv module off; as root we may add it, as anyone else we can only say so.
    if (typeof process.getuid === 'function' && process.getuid() === 0) {
      ensureDebianPackages(['python3', 'python3-venv']);
      res = probe();
    }
  }
  if (!res.ok || res.out.trim() !== 'True') {
    throw new Error(
      `the OpenAPI fuzz test needs python3 >= 3.10 with the venv module (Debian: python3 python3-venv): ${res.out.trim()}`,
    );
  }
  return 'python3';
}

/**
 * The venv's python, with the pinned schemathesis installed. The venv is keyed by the requirements
 * file's hash, built beside its final place and renamed into it, so a half-done install is never used.
 */
export function ensureSchemathesis(): { python: string; version: string } {
  const version = pinnedVersion();
  const hash = createHash('sha256').update(readFileSync(REQUIREMENTS)).digest('hex').slice(0, 12);
  const venv = join(CACHE_DIR, `schemathesis-${version}-${hash}`);
  const venvPython = join(venv, 'bin', 'python');
  const works = () => existsSync(venvPython) && run(venvPython, ['-m', 'schemathesis.cli', '--version']).ok;
  if (works()) return { python: venvPython, version };

  mkdirSync(CACHE_DIR, { recursive: true });
  const building = `${venv}.building-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  const made = run(python(), ['-m', 'venv', building]);
  if (!made.ok) throw new Error(`could not create a Python venv in ${building}: ${made.out.slice(-2000)}`);
  const pip = run(join(building, 'bin', 'python'), [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--disable-pip-version-check',
    '--no-input',
    '-r',
    REQUIREMENTS,
  ]);
  if (!pip.ok) {
    rmSync(building, { recursive: true, force: true });
    throw new Error(
      `could not install schemathesis ${version} (and the pins of ${REQUIREMENTS}) from PyPI: ${pip.out.slice(-3000)}`,
    );
  }
  rmSync(venv, { recursive: true, force: true });
  renameSync(building, venv);
  if (!works()) throw new Error(`schemathesis ${version} was installed in ${venv} but does not run`);
  return { python: venvPython, version };
}

export interface FuzzRun {
  /** The CLI's exit code: 0 when it found nothing. */
  code: number;
  /** Everything it printed. */
  output: string;
  ms: number;
}

/** `st run ARGS` (global options, such as --config-file, go in `before`), with a hard time limit. */
export function runSchemathesis(
  py: string,
  args: string[],
  timeoutMs: number,
  before: string[] = [],
  env: Record<string, string> = {},
): Promise<FuzzRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    // Its own working directory: schemathesis and hypothesis leave caches and crash files there.
    const cwd = mkdtempSync(join(tmpdir(), 'tessera-schemathesis-'));
    const child = spawn(py, ['-m', 'schemathesis.cli', ...before, 'run', ...args], {
      cwd,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: homedir(),
        PYTHONUNBUFFERED: '1',
        PYTHONDONTWRITEBYTECODE: '1',
        NO_COLOR: '1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const timer = setTimeout(() => {
      output += `\n[killed after ${timeoutMs} ms]\n`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      rmSync(cwd, { recursive: true, force: true });
      resolve({ code: code ?? -1, output, ms: Date.now() - started });
    });
  });
}

/**
 * What goes into the test log: the phases (cases, stateful scenarios, links covered), the failures
 * and warnings, and the summary; the middle is cut when failures run long.
 */
export function summaryOf(run: FuzzRun): string {
  const out = run.output;
  const phasesAt = out.search(/^ \S+ +(Examples|Coverage|Fuzzing|Stateful)\b/mu);
  const kept = (phasesAt >= 0 ? out.slice(phasesAt) : out).trim();
  const cut = 24_000;
  if (kept.length <= cut) return kept;
  const summaryAt = kept.search(/^=+ SUMMARY =+$/m);
  const tail = summaryAt >= 0 ? kept.slice(summaryAt) : kept.slice(-4000);
  return `${kept.slice(0, cut - tail.length)}\n[... cut ...]\n${tail}`;
}
