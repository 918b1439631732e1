/**
 * The adaptive in-flight window of `stage` (operators/stage-window.ts), with
 * a clock of the test's own: deep for fast inputs, 1024 for slow ones, never
 * grown while a way down is backed up, fixed when the user gave a number.
 */
import { InFlightWindow, MOST, START } from '../../operators/stage-window';

/** Ways down whose queues hold `queued` values each. */
const downs = (queued: number) => [{ down: { stats: () => ({ queued }) } }, { down: { stats: () => ({ queued: 0 }) } }];

/** Finishes `inputs` inputs, advancing the clock `msPer1024` per 1024 of them. */
function run(window: InFlightWindow, clock: { t: number }, inputs: number, msPer1024: number, queued = 0): void {
  for (let i = 0; i < inputs; i++) {
    window.now++;
    clock.t += msPer1024 / 1024;
    window.finished(downs(queued));
  }
}

describe('stage: the in-flight window', () => {
  it('grows for fast inputs, to what the workers finish in ~4 ms, at most MOST', () => {
    const clock = { t: 0 };
    const window = new InFlightWindow(undefined, () => clock.t);
    expect(window.limit).toBe(START);
    run(window, clock, 4 * 1024, 1); // 1024 a ms: 4096 in 4 ms
    expect(window.limit).toBe(4096);
    expect(window.held).toBe(4096 * 16);
    run(window, clock, 4 * 1024, 0.01); // far faster: capped
    expect(window.limit).toBe(MOST);
    expect(window.now).toBe(0);
  });

  it('keeps 1024 for slow inputs, and comes back to it when inputs slow down', () => {
    const clock = { t: 0 };
    const window = new InFlightWindow(undefined, () => clock.t);
    run(window, clock, 4 * 1024, 1000);
    expect(window.limit).toBe(START);
    run(window, clock, 4 * 1024, 0.5);
    expect(window.limit).toBe(8192);
    run(window, clock, 4 * 1024, 100);
    expect(window.limit).toBe(START);
  });

  it('does not grow while a way down holds values its ring has no room for (large inputs), but shrinks', () => {
    const clock = { t: 0 };
    const window = new InFlightWindow(undefined, () => clock.t);
    run(window, clock, 8 * 1024, 0.1, 3);
    expect(window.limit).toBe(START);
    run(window, clock, 4 * 1024, 0.1);
    expect(window.limit).toBe(MOST);
    run(window, clock, 4 * 1024, 50, 3);
    expect(window.limit).toBe(START);
  });

  it('stays where the user put it', () => {
    const clock = { t: 0 };
    const window = new InFlightWindow(7, () => clock.t);
    run(window, clock, 8 * 1024, 0.01);
    expect(window.limit).toBe(7);
    expect(window.held).toBe(7 * 16);
  });
});
