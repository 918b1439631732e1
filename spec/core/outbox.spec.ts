import type { Ending } from '../../core/ending';
import { TransportClosedError } from '../../core/errors';
import { Outbox, type OutboxLink } from '../../core/outbox';

/**
 * The outbox is driven by its link's callbacks, and a link may call back from
 * inside `offer`: the session (core/session-out.ts) learns that the reader
 * accepted its schema while it takes a value, and reports room at once. These
 * links do so on purpose, deterministically; the real case (exchange under
 * load, a reader in another thread freeing room meanwhile) is timing-bound.
 */
interface Model {
  outbox: Outbox<string>;
  /** What the link took, in order. */
  taken: string[];
  endings: Ending[];
  failures: unknown[];
}

function model(offer: (value: string, self: Model) => boolean): Model {
  const self: Model = { outbox: undefined!, taken: [], endings: [], failures: [] };
  const link: OutboxLink<string> = {
    offer: (value) => offer(value, self),
    check: () => {},
    queued: () => {},
    emptied: () => {},
    ended: (ending) => self.endings.push(ending),
    failed: (err) => self.failures.push(err),
  };
  self.outbox = new Outbox(link, { maxQueue: Infinity });
  return self;
}

const letters = (n: number) => Array.from({ length: n }, (_, i) => String.fromCharCode(97 + i));

describe('Outbox', () => {
  it('sends each value once, in order, when the link reports room from inside an offer', () => {
    // The reader accepts during the first offer after `accepting`: the link reports room (a nested
    // drain), then, as a reader in another thread would meanwhile, frees more room and takes the value.
    let accepting = false;
    let accepted = false;
    let room = 3;
    const m = model((value, self) => {
      if (!accepted && accepting) {
        accepted = true;
        self.outbox.drain();
        room += 5;
      }
      if (!accepted || room === 0) return false;
      room--;
      self.taken.push(value);
      return true;
    });
    for (const value of letters(10)) m.outbox.next(value);
    expect(m.taken).toEqual([]);
    accepting = true;
    m.outbox.end({ kind: 'complete' });
    expect(m.taken).toEqual(letters(8));
    expect(m.endings).toEqual([]);
    room = 10;
    m.outbox.drain();
    expect(m.taken).toEqual(letters(10));
    expect(m.endings).toEqual([{ kind: 'complete' }]);
    expect(m.outbox.dropped).toBe(0);
    expect(m.failures).toEqual([]);
  });

  it('offers again when room came during an offer that was refused', () => {
    // Room is reported (nested) while the offer still finds none; it is there a moment later.
    let calls = 0;
    const m = model((value, self) => {
      calls++;
      if (calls === 2) {
        self.outbox.drain();
        return false;
      }
      if (calls === 1) return false;
      self.taken.push(value);
      return true;
    });
    m.outbox.next('a'); // refused, queued
    m.outbox.next('b');
    m.outbox.drain(); // refused, but room came meanwhile: offered again
    expect(m.taken).toEqual(['a', 'b']);
  });

  it('counts each value dropped once when the far side closes during an offer', () => {
    let closing = false;
    const m = model((value, self) => {
      if (!closing) return false;
      self.outbox.close(new TransportClosedError('the reader stopped'), true);
      throw new TransportClosedError('the outgoing stream is closed');
    });
    for (const value of letters(4)) m.outbox.next(value);
    closing = true;
    m.outbox.drain();
    expect(m.taken).toEqual([]);
    expect(m.outbox.dropped).toBe(4);
    expect(m.outbox.length).toBe(0);
    expect(m.failures).toEqual([]);
  });

  it('rejects a waiting send once when the far side closes during its offer', async () => {
    let closing = false;
    const m = model((_value, self) => {
      if (!closing) return false;
      self.outbox.close(new TransportClosedError('the reader stopped'), true);
      return true; // taken as the far side closed: not sent after all
    });
    const first = m.outbox.send('a');
    m.outbox.next('b');
    closing = true;
    m.outbox.drain();
    await expect(first).rejects.toBeInstanceOf(TransportClosedError);
    expect(m.outbox.dropped).toBe(1);
    expect(m.outbox.length).toBe(0);
  });
});

describe('Outbox, the ending', () => {
  it('passes the error on when a queued value fails during a drain (the link ends the stream with it)', () => {
    const failure = new Error('too large a frame');
    let open = false;
    const m = model((value, self) => {
      if (!open) return false;
      if (value === 'b') throw failure;
      self.taken.push(value);
      return true;
    });
    // As WireSubject's `failed` does: the stream ends with the error.
    const failed = (err: unknown) => m.outbox.end({ kind: 'error', error: err });
    (m.outbox as unknown as { link: OutboxLink<string> }).link.failed = failed;
    for (const value of letters(4)) m.outbox.next(value);
    open = true;
    m.outbox.drain();
    expect(m.taken).toEqual(['a']);
    expect(m.endings).toEqual([{ kind: 'error', error: failure }]);
    expect(m.outbox.dropped).toBe(2); // c and d: not sent after the failure
  });

  it('holds the ending behind values queued from inside `emptied` (a resumed read echoing, then completing)', () => {
    let room = 2;
    let echoed = false;
    const self: Model = { outbox: undefined!, taken: [], endings: [], failures: [] };
    self.outbox = new Outbox<string>(
      {
        offer: (value) => {
          if (room === 0) return false;
          room--;
          self.taken.push(value);
          return true;
        },
        check: () => {},
        queued: () => {},
        emptied: () => {
          if (echoed) return;
          echoed = true;
          self.outbox.next('echo');
          self.outbox.end({ kind: 'complete' });
        },
        ended: (ending) => self.endings.push(ending),
        failed: (err) => self.failures.push(err),
      },
      { maxQueue: Infinity },
    );
    self.outbox.next('a');
    self.outbox.next('b');
    self.outbox.next('c'); // queued: the room is 2
    room = 1;
    self.outbox.drain();
    expect(self.taken).toEqual(['a', 'b', 'c']);
    expect(self.endings).toEqual([]); // 'echo' waits: no room
    room = 1;
    self.outbox.drain();
    expect(self.taken).toEqual(['a', 'b', 'c', 'echo']);
    expect(self.endings).toEqual([{ kind: 'complete' }]);
  });
});
