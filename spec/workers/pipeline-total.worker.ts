/** A pipeline step: the running total of what it gets (state across the whole stream). */
export { total as default } from './pipeline-parse.worker';
