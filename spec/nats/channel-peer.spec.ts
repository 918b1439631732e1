import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { codec } from '../../core/codec';
import { TransportClosedError } from '../../core/errors';
import { until } from '../helpers';
import { natsSuite } from './fixture';

/*
 * The other process of a NATS channel is killed (SIGKILL: it says nothing):
 * this end notices by its heartbeat and ends with TransportClosedError.
 */

const nats = natsSuite();
const ECHO = join(__dirname, '..', 'workers', 'nats-echo.process.ts');
let child: ChildProcess | undefined;

afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
  child = undefined;
});

it('the peer process killed: this end fails with TransportClosedError within its heartbeat timeout, and a later send rejects', async () => {
  const conn = await nats.conn();
  const wire = conn.open('echo', codec('long'), { heartbeat: { interval: 200, timeout: 1000 } });
  const echoes: number[] = [];
  const ended = new Promise<Error>((resolve) => wire.subscribe({ next: (n) => echoes.push(n), error: resolve }));
  child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', ECHO, nats.server.url], { stdio: ['ignore', 'pipe', 'inherit'] });
  const proc = child;
  await wire.send(1); // resolves once the child's end has accepted
  await until(() => echoes.length > 0);
  expect(echoes).toEqual([1]);
  proc.kill('SIGKILL');
  const err = await ended;
  expect(err).toBeInstanceOf(TransportClosedError);
  expect(err.message).toMatch(/silent for \d+ ms \(heartbeat timeout 1000 ms\)/);
  await expect(wire.send(2)).rejects.toBeInstanceOf(TransportClosedError);
});
