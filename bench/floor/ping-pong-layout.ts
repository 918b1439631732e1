/** The floor ping-pong's shared buffer: one Int32 flag on its own line, then the Trade's bytes. */
export const FLAG = 0;
export const IDLE = 0;
export const ASK = 1;
export const ANSWER = 2;

/** A new ping-pong buffer. */
export function pingPongBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(64 + 4096);
}

/** Its views. */
export function mapPingPong(sab: SharedArrayBuffer): { flag: Int32Array; data: Buffer } {
  return { flag: new Int32Array(sab, 0, 16), data: Buffer.from(sab, 64, 4096) };
}
