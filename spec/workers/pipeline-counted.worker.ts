/**
 * A pipeline step that emits its input as is and says, on the BroadcastChannel `pipeline-counted`, how many
 * inputs it has read, every 100: what a spec watches to see the step held back by the step after it.
 */
import { BroadcastChannel } from 'node:worker_threads';
import { finalize, tap, type Observable } from 'rxjs';

export default <T>(in$: Observable<T>) => {
  const told = new BroadcastChannel('pipeline-counted');
  let read = 0;
  return in$.pipe(
    tap(() => ++read % 100 === 0 && told.postMessage(read)),
    finalize(() => told.close()),
  );
};
