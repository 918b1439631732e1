/**
 * Stage suite worker for the piscina baseline: piscina calls the default
 * export once per task (`pool.run(item)`), with the item structured-cloned
 * in and the result cloned back. The same `mapItem` as `stage-map.worker.ts`.
 */
import { mapItem } from './stage-map.worker';

export default mapItem;
