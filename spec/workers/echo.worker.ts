// Echoes every Trade back, then completes when the main thread completes.
import { workerData } from 'node:worker_threads';
import { open } from '../../lib/open';
import { Trade } from '../fixtures/trade';

const wire = open(workerData.end, Trade);
wire.subscribe(wire);
