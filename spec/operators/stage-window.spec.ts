/**
 * The adaptive in-flight window of `stage` (operators/stage-window.ts), with
 * a clock of the test's own: deep for fast inputs, 1024 for slow ones, never
 * grown while a way down is backed up, down by half at most per sample,
 * fixed when the user gave a number.
 */
import { InFlightWindow, MOST, START } from '../../operators/stage-window';

/** Finished inputs per measure of the pace (SAMPLE in stage-window.ts). */
const SAMPLE = 4096;

/** Ways down whose queues hold `queued` values each. */
const downs = (queued: number) => [{ down: { stats: () => ({ queued }) } }, { down: { stats: () => ({ queued: 0 }) } }];

/** Finishes `samples` samples of inputs, advancing the clock `msPer1024` per 1024 of them. */
function run(window: InFlightWindow, clock: { t: number }, samples: number, msPer1024: number, queued = 0): void {
  for (let i = 0; i < samples * SAMPLE; i++) {
    window.now++;
    clock.t += msPer1024 / 1024;
    window.finished(downs(queued));
  }
}

/** A window on the test's clock that has taken its first sample (which only starts the clock). */
function started(): { window: InFlightWindow; clock: { t: number } } {
  const clock = { t: 0 };
  const window = new InFlightWindow(undefined, () => clock.t);
  run(window, clock, 1, 1);
  expect(window.limit).toBe(START);
  return { window, clock };
}

describe('stage: the in-flight window', () => {
  it('grows for fast inputs, to what the workers finish in ~4 ms, at most MOST', () => {
    const { window, clock } = started();
    run(window, clock, 1, 1); // 1024 a ms: 4096 in 4 ms
    expect(window.limit).toBe(4096);
    expect(window.held).toBe(4096 * 16);
    run(window, clock, 1, 0.01); // far faster: capped
    expect(window.limit).toBe(MOST);
    expect(window.now).toBe(0);
  });

  it('keeps 1024 for slow inputs, and comes back to it by halves when inputs slow down', () => {
    const { window, clock } = started();
    run(window, clock, 2, 1000);
    expect(window.limit).toBe(START);
    run(window, clock, 1, 0.5);
    expect(window.limit).toBe(8192);
    const seen: number[] = [];
    for (let i = 0; i < 4; i++) {
      run(window, clock, 1, 100);
      seen.push(window.limit);
    }
    expect(seen).toEqual([4096, 2048, 1024, 1024]);
  });

  it('rides out one slow sample (this thread off its core) among fast ones', () => {
    const { window, clock } = started();
    run(window, clock, 1, 0.1);
    expect(window.limit).toBe(MOST);
    run(window, clock, 1, 40);
    expect(window.limit).toBe(MOST / 2);
    run(window, clock, 1, 0.1);
    expect(window.limit).toBe(MOST);
  });

  it('does not grow while a way down holds values its ring has no room for, but shrinks', () => {
    const { window, clock } = started();
    run(window, clock, 2, 0.1, 3);
    expect(window.limit).toBe(START);
    run(window, clock, 1, 0.1);
    expect(window.limit).toBe(MOST);
    run(window, clock, 1, 50, 3);
    expect(window.limit).toBe(MOST / 2);
  });

  it('stays where the user put it', () => {
    const clock = { t: 0 };
    const window = new InFlightWindow(7, () => clock.t);
    run(window, clock, 3, 0.01);
    expect(window.limit).toBe(7);
    expect(window.held).toBe(7 * 16);
  });
});
