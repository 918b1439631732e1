import { Batcher } from '../../core/batcher';

/* The one batching rule: a turn's writes go together; with `early`, the first write of a turn goes after its microtasks. */

/** A batcher over a list of "sent" batches; `write(n)` adds n bytes. */
function batcher(early: boolean, threshold = 1000) {
  const sent: { bytes: number; atTurnEnd: boolean }[] = [];
  let waiting = 0;
  const b = new Batcher((atTurnEnd) => {
    if (waiting > 0) sent.push({ bytes: waiting, atTurnEnd });
    waiting = 0;
  }, threshold, early);
  return {
    b,
    sent,
    write(n: number) {
      waiting += n;
      b.wrote(waiting);
    },
  };
}

const microtasks = () => new Promise<void>((resolve) => queueMicrotask(resolve));
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('Batcher', () => {
  it("without early: a turn's writes go together at the turn's end", async () => {
    const { sent, write } = batcher(false);
    write(10);
    await microtasks();
    write(20);
    expect(sent).toEqual([]);
    await turn();
    expect(sent).toEqual([{ bytes: 30, atTurnEnd: true }]);
  });

  it("early: the turn's first writes go when the microtasks before them ran, the later ones at the turn's end", async () => {
    const { sent, write } = batcher(true);
    write(10);
    write(5); // before the early send: goes with it
    expect(sent).toEqual([]);
    await microtasks();
    await microtasks();
    expect(sent).toEqual([{ bytes: 15, atTurnEnd: false }]);
    write(20);
    write(30);
    await microtasks();
    expect(sent).toHaveLength(1);
    await turn();
    expect(sent).toEqual([
      { bytes: 15, atTurnEnd: false },
      { bytes: 50, atTurnEnd: true },
    ]);
    // A new turn: early again.
    write(7);
    await microtasks();
    await microtasks();
    expect(sent[2]).toEqual({ bytes: 7, atTurnEnd: false });
    await turn();
    expect(sent).toHaveLength(3);
  });

  it('early: newTurn() (something was read) lets the next write go early again', async () => {
    const { b, sent, write } = batcher(true);
    write(1);
    await microtasks();
    await microtasks();
    b.newTurn();
    write(2);
    await microtasks();
    await microtasks();
    expect(sent).toEqual([
      { bytes: 1, atTurnEnd: false },
      { bytes: 2, atTurnEnd: false },
    ]);
    b.cancel();
  });

  it('the threshold sends at once; cancel() forgets a queued early send', async () => {
    const { b, sent, write } = batcher(true, 100);
    write(150);
    expect(sent).toEqual([{ bytes: 150, atTurnEnd: false }]);
    write(10); // queues an early send (a new turn: the threshold send was not at a turn's end, but nothing was sent early yet)
    b.cancel();
    await microtasks();
    await turn();
    expect(sent).toHaveLength(1);
  });
});
