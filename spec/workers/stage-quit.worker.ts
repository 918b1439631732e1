/**
 * A stage module that echoes its inputs and never completes; at input 9 it
 * starts a timer that sends ten more values (100..109) and then calls
 * `process.exit(0)`: its thread ends in the turn it wrote them.
 */
import { sendsThenEnds } from './stage-crash.worker';

export default sendsThenEnds(() => process.exit(0));
