/** Thrown at registration when a face is given without a service it needs: the node does not boot. */
export class PluginOptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PluginOptionError';
  }
}

/**
 * Checks that every required option of a face is there before it registers a route. `required`
 * maps each option name to what it is, so the boot error tells the operator what to pass.
 */
export function checkOptions(plugin: string, opts: object, required: Record<string, string>): void {
  const given = opts as Record<string, unknown>;
  const missing = Object.entries(required).filter(
    ([name]) => given[name] === undefined || given[name] === null,
  );
  if (missing.length === 0) return;
  const list = missing.map(([name, what]) => `"${name}" (${what})`).join(', ');
  throw new PluginOptionError(`${plugin}: missing option${missing.length > 1 ? 's' : ''} ${list}`);
}
