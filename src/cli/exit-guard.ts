/**
 * Once a command is done (for `serve`, once the node has stopped), anything still open (a Redis
 * client reconnecting to a master that moved, a forgotten timer) must not keep an operator's
 * command, or a script that waits for it, hanging: after `ms` the process names what is open and
 * exits. The timer does not itself keep the process alive, so a clean exit is not delayed.
 */
export function exitWhenDone(ms: number): void {
  setTimeout(() => {
    const open = process.getActiveResourcesInfo().filter((r) => r !== 'Timeout');
    process.stderr.write(
      `tessera: still open ${ms / 1000} s after the command finished (${open.join(', ') || 'timers'}); exiting\n`,
    );
    process.exit();
  }, ms).unref();
}
