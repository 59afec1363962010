// The long-lived link to Tessera: Server-Sent Events read with fetch (EventSource cannot send the
// signature headers), reconnected with a growing pause, and a catch-up of pending pushes on every
// (re)connect so a request made while the link was down is not missed.
import { deviceFetch } from './device.js';

/** Splits an SSE byte stream into `{event, data}` messages (comments such as `: ping` are skipped). */
export async function* sseMessages(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, '\n');
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length > 0) yield { event, data: data.join('\n') };
      end = buffer.indexOf('\n\n');
    }
  }
}

/**
 * Keeps the event stream open until `stop()`. Calls `onPush(push)`, `onConfig(config)`,
 * `onState('connecting' | 'connected' | 'offline' | 'refused')` and `onPending(list)` after each
 * catch-up. A 401/404 (device unknown or disabled) stops retrying: the app says so.
 */
export function connectEvents(device, handlers) {
  let stopped = false;
  let controller = null;
  let attempt = 0;
  const pause = () => Math.min(30_000, 1000 * 2 ** attempt) * (0.75 + Math.random() * 0.5);

  // what arrived while the link was down, and the server's note of this contact (the portal shows it)
  const catchUp = async () => {
    const reply = await deviceFetch(device, 'GET', '/v1/device/pushes', undefined, controller?.signal);
    if (reply.ok) handlers.onPending((await reply.json()).items ?? []);
    const sync = await deviceFetch(device, 'POST', '/v1/device/sync', {}, controller?.signal);
    if (sync.ok) handlers.onConfig(await sync.json());
  };

  const run = async () => {
    while (!stopped) {
      controller = new AbortController();
      handlers.onState(attempt === 0 ? 'connecting' : 'offline');
      try {
        const reply = await deviceFetch(device, 'GET', '/v1/device/events', undefined, controller.signal);
        if (reply.status === 401 || reply.status === 403 || reply.status === 404) {
          handlers.onState('refused');
          return;
        }
        if (!reply.ok || !reply.body) throw new Error(`events answered ${reply.status}`);
        attempt = 0;
        handlers.onState('connected');
        await catchUp().catch(() => {});
        for await (const message of sseMessages(reply.body)) {
          const data = JSON.parse(message.data);
          if (message.event === 'push') handlers.onPush(data);
          else if (message.event === 'config') handlers.onConfig(data);
        }
      } catch (err) {
        if (stopped) return;
        if (err instanceof SyntaxError) console.warn('an event could not be read');
      }
      if (stopped) return;
      handlers.onState('offline');
      await new Promise((resolve) => setTimeout(resolve, pause()));
      attempt += 1;
    }
  };
  run();
  return {
    stop() {
      stopped = true;
      controller?.abort();
    },
    /** Reconnect at once (the network came back, or the app became visible). */
    nudge() {
      if (stopped) return;
      attempt = 0;
      controller?.abort();
    },
  };
}
