/**
 * A child process for the NATS peer-gone spec: opens the NATS channel `echo`
 * (codec long) and echoes every value back, until it is killed.
 *
 *   node -r ts-node/register/transpile-only spec/workers/nats-echo.process.ts <url>
 *     prints `opened` once the channel is open
 */
import { codec } from '../../core/codec';
import { connect } from '../../transports/nats';

async function main(): Promise<void> {
  const conn = await connect({ servers: process.argv[2] });
  const wire = conn.open('echo', codec('long'), { heartbeat: false }); // only the test's end watches
  wire.subscribe({ next: (n) => wire.next(n), error: () => {} });
  process.stdout.write('opened\n');
  setInterval(() => {}, 1 << 30); // stay until killed
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack}\n`);
  process.exitCode = 1;
});
