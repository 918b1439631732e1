/**
 * core/thread-hold.ts: a worker whose only pending work is an
 * `Atomics.waitAsync` stays alive until the wait settles, even when the
 * turn that armed the wait runs on past the wait's timeout (the
 * spec/workers/hold.worker.ts programs).
 */
import { exited, spawn } from '../helpers';

/** What the worker posted before it exited, and its exit code. */
async function run(how: 'credits' | 'held' | 'margin'): Promise<{ said: unknown[]; code: number }> {
  // The control ('margin') waits 500 ms, so that its worker's exit, ~30 ms in, is far from the wait's end on a loaded machine
  // too (with a keep-alive of the wait's timeout plus 10 ms it raced the wait, and lost once in a CI run: 'settled').
  const worker = spawn('hold', { how, sliceMs: how === 'margin' ? 500 : 50, busyMs: 30 });
  const said: unknown[] = [];
  worker.on('message', (message) => said.push(message));
  const code = await exited(worker);
  return { said, code };
}

describe('holdThread', () => {
  it('keeps a worker waiting in Credits.wait alive until the wait settles, after a long turn', async () => {
    expect(await run('credits')).toEqual({ said: ['settled'], code: 0 });
  });

  it('keeps a worker waiting in a bare waitAsync alive until the wait settles, after a long turn', async () => {
    expect(await run('held')).toEqual({ said: ['settled'], code: 0 });
  });

  it('is needed: a pending waitAsync alone keeps no worker alive (a keep-alive that ends first: the worker exits mid-wait)', async () => {
    expect(await run('margin')).toEqual({ said: [], code: 0 });
  });
});
