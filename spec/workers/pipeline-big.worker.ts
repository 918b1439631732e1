/** A pipeline step (raw → raw) that passes values on, and for a one-byte value emits 600,000 bytes instead. */
import { map, type Observable } from 'rxjs';

export default (in$: Observable<Uint8Array>) => in$.pipe(map((v) => (v.length === 1 ? new Uint8Array(600_000) : v)));
