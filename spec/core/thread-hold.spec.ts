/**
 * core/thread-hold.ts: a worker whose only pending work is an
 * `Atomics.waitAsync` stays alive until the wait settles, even when the
 * turn that armed the wait runs on past the wait's timeout (the
 * spec/workers/hold.worker.ts programs).
 */
import { exited, spawn } from '../helpers';

/** What the worker posted before it exited, and its exit code. */
async function run(how: 'credits' | 'held' | 'margin'): Promise<{ said: unknown[]; code: number }> {
  const worker = spawn('hold', { how, sliceMs: 50, busyMs: 30 });
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

  it('is needed: a timer of the timeout plus 10 ms lets the worker exit mid-wait after a 30 ms turn', async () => {
    // The way credits.ts and shm/wait.ts kept the thread before: the worker exits, the wait never settles.
    expect(await run('margin')).toEqual({ said: [], code: 0 });
  });
});
