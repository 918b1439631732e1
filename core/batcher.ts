/**
 * The one batching rule every transport uses for what it writes: what is
 * written in one turn of the event loop goes out together at the end of that
 * turn (`setImmediate`, not a microtask: a loop of `await send()` would then
 * go out one value at a time), and at once when it reaches `thresholdBytes`.
 * Port posts one transferred buffer per batch, shm publishes its ring
 * cursor, TCP hands its waiting buffers to the socket in one corked writev.
 */
export class Batcher {
  private scheduled: ReturnType<typeof setImmediate> | undefined;

  /**
   * @param send takes what waits and sends it (it may find nothing to send);
   *   `atTurnEnd` is true when the turn ended (nothing of the writer's is on
   *   the stack then: a transport may wake writers that waited for room),
   *   false when the threshold or a `flush()` sent it
   * @param thresholdBytes bytes waiting past which `wrote` sends at once
   */
  constructor(
    private readonly send: (atTurnEnd: boolean) => void,
    private readonly thresholdBytes: number,
  ) {}

  /** Something was written: `waiting` bytes wait in all. */
  wrote(waiting: number): void {
    if (waiting >= this.thresholdBytes) this.flush();
    else this.scheduled ??= setImmediate(this.onTurnEnd);
  }

  /** Sends what waits now. */
  flush(): void {
    this.cancel();
    this.send(false);
  }

  /** Forgets the end-of-turn send (the link is closed). */
  cancel(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
  }

  private readonly onTurnEnd = (): void => {
    this.scheduled = undefined;
    this.send(true);
  };
}
