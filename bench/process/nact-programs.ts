/**
 * The process suite's nact programs (nact 7.6.2, the peer: actors on one
 * thread, each message handled in its own `setImmediate`), the same spawn
 * and ring as rxwire's and Erlang's. They run inside a fresh worker thread
 * per repetition (bench/process/measure.worker.ts), so every repetition
 * starts from a fresh heap.
 */
import { dispatch, spawnStateless, start, stop, type Ref } from 'nact';
import { perThing, readMemory } from './memory';
import type { RingSample, SpawnSample } from './protocol';

/**
 * Spawns `n` stateless actors that do nothing until a message comes, and
 * reads the time per spawn and the heap and RSS growth per actor with all
 * of them alive. Each actor gets its own name: nact's anonymous names are
 * random 32-bit numbers, which collide among 100k actors.
 */
export async function nactSpawn(n: number): Promise<SpawnSample> {
  const system = start();
  const refs: Ref<number>[] = new Array(n);
  const before = readMemory();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) refs[i] = spawnStateless(system, (_msg: number) => {}, `idle-${i}`);
  const spawnUs = ((performance.now() - t0) * 1000) / n;
  const after = readMemory();
  if (refs.filter(Boolean).length !== n) throw new Error('nact spawned fewer actors than asked');
  stop(system);
  return { spawnUs, ...perThing(before, after, n) };
}

/**
 * A ring of `size` nact actors, each dispatching the token (a count down)
 * to the next; timed from the first dispatch to the actor that receives 0,
 * after an untimed warm-up of up to 50 laps on the same actors (rxwire's
 * ring warms up too: the JIT, and the first allocations, stay out of both
 * timed stretches).
 */
export async function nactRing(size: number, hops: number): Promise<RingSample> {
  const system = start();
  const refs: Ref<number>[] = new Array(size);
  let finish: () => void = () => {};
  for (let i = 0; i < size; i++) {
    const next = (i + 1) % size;
    refs[i] = spawnStateless(system, (k: number) => (k === 0 ? finish() : dispatch(refs[next], k - 1)), `relay-${i}`);
  }
  const lap = (k: number) =>
    new Promise<void>((resolve) => {
      finish = resolve;
      dispatch(refs[0], k);
    });
  await lap(Math.min(hops, 50 * size));
  const t0 = performance.now();
  await lap(hops);
  const seconds = (performance.now() - t0) / 1000;
  stop(system);
  return { rate: hops / seconds };
}
