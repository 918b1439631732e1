/** A pipeline step: drops multiples of 3, into a schema of its own (`Kept`). */
export { keep as default } from './pipeline-parse.worker';
