// HEALTHCHECK: healthy when this node answers /readyz with 200 (store reachable, role known).
const port = process.env.TESSERA_PORT || '8080';
const host = ['', '0.0.0.0', '::'].includes(process.env.TESSERA_HOST ?? '')
  ? '127.0.0.1'
  : process.env.TESSERA_HOST;
const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/readyz`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(2500) });
  process.exitCode = res.status === 200 ? 0 : 1;
} catch {
  process.exitCode = 1;
}
