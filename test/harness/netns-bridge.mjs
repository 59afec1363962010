// Runs inside a network namespace (started with `ip netns exec`): for each pair of arguments
// `<unix socket path> <host:port>` it forwards connections from the socket to that address in the
// namespace. Unix sockets on the file system cross namespaces, so the test process reaches the
// namespace's services this way without any address outside the namespace.
import { unlinkSync } from 'node:fs';
import { connect, createServer } from 'node:net';

const args = process.argv.slice(2);
let listening = 0;
for (let i = 0; i + 1 < args.length; i += 2) {
  const path = args[i];
  const target = args[i + 1];
  const at = target.lastIndexOf(':');
  const host = target.slice(0, at);
  const port = Number(target.slice(at + 1));
  try {
    unlinkSync(path);
  } catch {
    // not there yet
  }
  createServer((client) => {
    const upstream = connect({ host, port });
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }).listen(path, () => {
    listening++;
    if (listening === args.length / 2) process.stdout.write('ready\n');
  });
}
