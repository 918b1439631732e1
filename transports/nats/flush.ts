/**
 * A flush that cannot hold its caller: what is published reaches the server
 * when the server is there, and a server that is down (restarting, gone)
 * costs at most FLUSH_MS, never a rejection.
 */
import type { NatsConnection } from '@nats-io/transport-node';

/** The longest a flush is waited for. */
export const FLUSH_MS = 2000;

/** Resolves when the server has everything written so far, or after FLUSH_MS (a server that is down), or at once when closed. */
export function flushed(nc: NatsConnection): Promise<void> {
  if (nc.isClosed()) return Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, FLUSH_MS)));
  const done = nc.flush().then(
    () => undefined,
    () => undefined, // closed meanwhile: nothing more can reach the server
  );
  return Promise.race([done, late]).finally(() => clearTimeout(timer));
}
