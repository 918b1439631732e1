/**
 * The user's side for spec/threads/start.spec.ts. `value`: every worker
 * returns index × 10. `forever`: none returns. `exit` / `throw`: worker
 * `failing` exits with code 3 / throws, the others never return.
 */
export default function crew(setup: { mode: 'value' | 'forever' | 'exit' | 'throw'; failing?: number }, index: number) {
  if (setup.mode === 'value') return index * 10;
  // A pending promise alone would let the thread's event loop run dry and exit: a timer keeps it alive.
  if (setup.mode === 'forever' || index !== setup.failing) return new Promise(() => setInterval(() => {}, 60_000));
  if (setup.mode === 'exit') process.exit(3);
  throw new RangeError(`worker ${index} refuses`);
}
