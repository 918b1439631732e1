/**
 * runToResult (threads/run.ts): how a worker's function settles is what its
 * senders are ended with — completed on success, errored on any failure,
 * `throw undefined` included.
 */
import { of, throwError } from 'rxjs';
import { runToResult, type Failure } from '../../threads/run';

async function outcome(fn: () => unknown): Promise<{ settled: (Failure | undefined)[]; result: unknown }> {
  const settled: (Failure | undefined)[] = [];
  const result = await runToResult(fn, [], (failure) => settled.push(failure)).then(
    (value) => ({ value }),
    (err: unknown) => ({ rejected: err }),
  );
  return { settled, result };
}

test('a value, a Promise or an Observable: settled once without a failure, resolving with the (last) value', async () => {
  expect(await outcome(() => 7)).toEqual({ settled: [undefined], result: { value: 7 } });
  expect(await outcome(async () => 8)).toEqual({ settled: [undefined], result: { value: 8 } });
  expect(await outcome(() => of(1, 2, 9))).toEqual({ settled: [undefined], result: { value: 9 } });
});

test.each([
  ['throws undefined', () => {
    throw undefined;
  }],
  ['rejects with undefined', () => Promise.reject(undefined)],
  ['errors with undefined', () => throwError(() => undefined)],
  ['throws null', () => {
    throw null;
  }],
])('a function that %s is a failure carrying that value, not a success', async (_how, fn) => {
  const { settled, result } = await outcome(fn);
  expect(settled).toHaveLength(1);
  expect(settled[0]).toHaveProperty('error');
  expect(result).toHaveProperty('rejected');
  expect(settled[0]!.error).toBe((result as { rejected: unknown }).rejected);
});
