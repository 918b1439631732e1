/**
 * Hashes the keys it is given in another thread, for the hash tests: it
 * posts `keyHash` of each of `workerData.keys` back on parentPort.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { keyHash, type KeyValue } from '../../core/hash';

const { keys } = workerData as { keys: KeyValue[] };
parentPort!.postMessage(keys.map(keyHash));
