/*
 * Operators (exchange, burstRecv, request/serve, stage, pipeline) arrive with
 * the runtime; the entry point `rxwire/operators` exists from the start so
 * imports written today keep working.
 */
export {};
