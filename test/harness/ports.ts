import { createServer } from 'node:net';

/**
 * Ports are picked below the kernel's ephemeral range (32768–60999 on Linux). A port taken from
 * that range can be handed to some other process's outgoing connection before our server binds it,
 * which happens when a server takes half a minute to start (Keycloak). A random start keeps
 * parallel test processes apart.
 */
const PICK_FROM = 20_000;
const PICK_SPAN = 12_000;

async function pickPort(tryBind: (port: number) => Promise<boolean>): Promise<number> {
  const first = Math.floor(Math.random() * PICK_SPAN);
  for (let i = 0; i < 200; i++) {
    const port = PICK_FROM + ((first + i * 7919) % PICK_SPAN);
    if (await tryBind(port)) return port;
  }
  throw new Error(`no free loopback port between ${PICK_FROM} and ${PICK_FROM + PICK_SPAN}`);
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return pickPort(
    (port) =>
      new Promise((resolve) => {
        const srv = createServer();
        srv.unref();
        srv.once('error', () => resolve(false));
        srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
      }),
  );
}

/** A UDP port that was free on 127.0.0.1 a moment ago (for RADIUS). */
export async function freeUdpPort(): Promise<number> {
  const { createSocket } = await import('node:dgram');
  return pickPort(
    (port) =>
      new Promise((resolve) => {
        const sock = createSocket('udp4');
        sock.unref();
        sock.once('error', () => resolve(false));
        sock.bind(port, '127.0.0.1', () => sock.close(() => resolve(true)));
      }),
  );
}

class ProbeHung extends Error {}

/**
 * The probe's answer, or an error once the deadline passes: a probe that never settles (a request
 * to a server that accepted the connection and never answers) ends the wait with a message instead
 * of hanging until the test framework's own timeout.
 */
function withinDeadline<T>(answer: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, fail) => {
    timer = setTimeout(
      () => fail(new ProbeHung('the last probe did not answer')),
      Math.max(0, deadline - Date.now()),
    );
  });
  return Promise.race([answer, hung]).finally(() => clearTimeout(timer));
}

/** Thrown by a waitFor probe when waiting longer cannot help (the process has exited). */
export class StopWaiting extends Error {}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await withinDeadline(probe(), deadline);
      if (v) return v;
    } catch (err) {
      if (err instanceof StopWaiting) throw err;
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
  );
}
