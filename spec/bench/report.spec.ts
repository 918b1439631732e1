import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseOptions } from '../../bench/args';
import { chartBars, chartSvg } from '../../bench/chart';
import type { Row, Suite } from '../../bench/harness';
import { medianOfRuns, runsOfEverySuite } from '../../bench/merge';
import { formatRow } from '../../bench/report';
import { figures, markdownTable, resultsMarkdown } from '../../bench/summary';
import { measureNoise, noiseLine, STOP_MICROS } from '../../bench/noise';

const row = (over: Partial<Row>): Row => ({
  suite: 'shm',
  case: 'Trade throughput',
  unit: 'msgs/s',
  value: 3e6,
  baseline: 'postMessage(object)',
  baselineValue: 1e6,
  ratio: 3,
  role: 'peer',
  better: 'higher',
  ...over,
});

const ROWS: Row[] = [
  row({}),
  row({ baseline: 'WireSubject over port', ratio: 1.5, role: 'reference' }),
  row({ baseline: 'bare SAB ring + avsc', baselineValue: 6e6, ratio: 0.5, role: 'floor' }),
  row({ case: 'round trip p50', unit: 'µs', value: 2, baseline: 'postMessage', baselineValue: 40, ratio: 20, better: 'lower' }),
];

describe('bench report: peers, floors, references', () => {
  it('groups the rows of one figure and sorts its baselines by role', () => {
    const [throughput, rtt] = figures(ROWS);
    expect(throughput.peers).toEqual([{ name: 'postMessage(object)', ratio: 3 }]);
    expect(throughput.floors).toEqual([{ name: 'bare SAB ring + avsc', ratio: 0.5 }]);
    expect(throughput.references).toEqual([{ name: 'WireSubject over port', ratio: 1.5 }]);
    expect(rtt.floors).toEqual([]);
  });

  it('prints the role before a floor or reference baseline, and the table has one line per figure', () => {
    expect(formatRow(ROWS[2])).toContain('[floor] bare SAB ring + avsc');
    expect(formatRow(ROWS[1])).toContain('[rxwire] WireSubject over port');
    expect(formatRow(ROWS[0])).not.toContain('[');
    const table = markdownTable(ROWS).split('\n');
    expect(table).toHaveLength(4);
    expect(table[2]).toBe('| shm | Trade throughput | 3.00M msgs/s | 3.00× postMessage(object) | 0.50× bare SAB ring + avsc | 1.50× WireSubject over port |');
    expect(table[3]).toContain('| — |');
    expect(resultsMarkdown(ROWS, 'npm run bench -- shm', { machine: 'M', repetitions: 5 })).toMatch(/Command: `npm run bench -- shm`[\s\S]*Machine: M\. [\s\S]*median of 5 runs[\s\S]*\| shm \| Trade throughput/);
  });

  it('draws a bar per peer and floor ratio, with the caption, as SVG', async () => {
    expect(chartBars(ROWS).map((b) => [b.figure, b.against, b.ratio])).toEqual([
      ['shm: Trade throughput', 'vs peer', 3],
      ['shm: Trade throughput', 'vs floor', 0.5],
      ['shm: round trip p50', 'vs peer', 20],
    ]);
    const svg = await chartSvg(ROWS, 'a caption for the test');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('a caption for the test');
    expect(svg).toContain('shm: round trip p50');
    expect(svg.match(/aria-roledescription="bar"/g)).toHaveLength(3);
  });
});

describe('bench command line: --chart, --results, --from', () => {
  const suites: Suite[] = [{ name: 'shm', title: 'x', cases: () => [] }];
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'rxwire-bench-args-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('takes output files in writable folders and refuses others before running', () => {
    const options = parseOptions(['shm', '--chart', join(dir, 'b.svg'), '--results', join(dir, 'R.md')], suites);
    expect(options.chart).toBe(join(dir, 'b.svg'));
    expect(options.results).toBe(join(dir, 'R.md'));
    expect(() => parseOptions(['--chart', join(dir, 'nope', 'b.svg')], suites)).toThrow(/--chart: cannot write in/);
    expect(() => parseOptions(['--results', ''], suites)).toThrow(/--results needs a file name/);
  });

  it('--from needs an existing file and no suite', () => {
    const file = join(dir, 'rows.json');
    writeFileSync(file, '[]');
    expect(parseOptions(['--from', file, '--chart', join(dir, 'c.svg')], suites).from).toEqual([file]);
    const other = join(dir, 'rows2.json');
    writeFileSync(other, '[]');
    expect(parseOptions(['--from', file, '--from', other], suites).from).toEqual([file, other]);
    expect(() => parseOptions(['--from', file, '--from', join(dir, 'missing.json')], suites)).toThrow(/--from: no such file .*missing\.json/);
    expect(() => parseOptions(['--from', join(dir, 'missing.json')], suites)).toThrow(/--from: no such file/);
    expect(() => parseOptions(['shm', '--from', file], suites)).toThrow(/name no suite/);
  });
});

describe('several --from runs: the median of each figure', () => {
  it('takes the median of value, baseline value and ratio per (suite, case, baseline), in first-seen order', () => {
    const peer = (value: number, baselineValue: number) => row({ value, baselineValue, ratio: value / baselineValue });
    const floor = (ratio: number) => row({ baseline: 'bare SAB ring', role: 'floor', value: 3e6, baselineValue: 3e6 / ratio, ratio });
    const other = (value: number) => row({ suite: 'tcp', case: 'Trade', value, baselineValue: value, ratio: 1 });
    const merged = medianOfRuns([
      [peer(3e6, 1e6), floor(0.5)],
      [peer(1e6, 1e6), floor(0.7), other(5)],
      [peer(2e6, 0.5e6), floor(0.6), other(7)],
    ]);
    expect(merged.map((r) => [r.suite, r.baseline])).toEqual([
      ['shm', 'postMessage(object)'],
      ['shm', 'bare SAB ring'],
      ['tcp', 'postMessage(object)'],
    ]);
    // The ratio is the median of each run's own ratio (3, 1, 4 -> 3), not median value / median baseline (2e6 / 1e6).
    expect(merged[0]).toMatchObject({ value: 2e6, baselineValue: 1e6, ratio: 3, role: 'peer' });
    expect(merged[1]).toMatchObject({ ratio: 0.6, role: 'floor' });
    // In two runs of three: the mean of the middle two of two values.
    expect(merged[2]).toMatchObject({ value: 6, ratio: 1 });
  });

  it('counts the runs of each suite, not the files, when runs come in parts', () => {
    const shm = [row({})];
    const tcp = [row({ suite: 'tcp' })];
    expect(runsOfEverySuite([shm, shm, shm, tcp, tcp, tcp])).toBe(3);
    expect(runsOfEverySuite([[...shm, ...tcp], shm, tcp])).toBe(2);
    expect(runsOfEverySuite([[]])).toBe(1);
  });

  it('says in RESULTS.md that its figures are medians over the full runs, and where they were measured', () => {
    const made = { machine: '2026-12-04 · Node v20 · a CPU × 2', repetitions: 5 };
    expect(resultsMarkdown([row({})], 'npm run bench -- --from a.json --from b.json --from c.json', made, 3)).toContain('the median over 3 full runs');
    expect(resultsMarkdown([row({})], 'npm run bench', made)).toContain('Machine: 2026-12-04 · Node v20 · a CPU × 2. Each figure is the median of 5 runs');
    // A run that recorded no count is not said to have had the default's.
    expect(resultsMarkdown([row({})], 'npm run bench', { machine: 'M', repetitions: undefined })).toContain('how many, the run did not record');
  });

  it('charts the hardest floor of a figure with several, not the first one listed', () => {
    const floors = [row({ baseline: 'wake-up per hop', role: 'floor', ratio: 10.6 }), row({ baseline: 'both spinning', role: 'floor', ratio: 0.19 })];
    expect(chartBars(floors).map((b) => [b.against, b.baseline, b.ratio])).toEqual([['vs floor', 'both spinning', 0.19]]);
  });
});

describe("the machine's noise (bench/noise.ts)", () => {
  it('counts the stops of a busy loop for as long as it is told, and refuses a length it cannot use', () => {
    const noise = measureNoise(20);
    expect(noise.ms).toBeGreaterThanOrEqual(20);
    expect(noise.stopsPerSecond).toBeGreaterThanOrEqual(0);
    // Every stop counted is one of STOP_MICROS or more, so their median is too.
    if (noise.stopsPerSecond > 0) expect(noise.medianStopMicros).toBeGreaterThanOrEqual(STOP_MICROS);
    else expect(noise.medianStopMicros).toBe(0);
    for (const bad of [0, -1, NaN, 61_000]) expect(() => measureNoise(bad)).toThrow(RangeError);
  });

  it('says from what round-trip time the p99 is a stop: T × 2 × rate = 1 %', () => {
    const line = noiseLine({ ms: 1000, stopsPerSecond: 2000, medianStopMicros: 18.25 });
    expect(line).toBe(
      'a busy loop was stopped for 5 µs or more 2000 times a second (median stop 18.3 µs): ' +
        'a round trip keeping two threads busy has its p99 set by such stops from about 2.5 µs a trip',
    );
    expect(noiseLine({ ms: 1000, stopsPerSecond: 0, medianStopMicros: 0 })).toBe('a busy loop was never stopped for 5 µs or more in 1000 ms');
  });

  it("puts each run's noise before RESULTS.md's table, and none when no run measured it", () => {
    const one = resultsMarkdown([row({})], 'npm run bench', { machine: 'M', repetitions: 5, noise: ['N1'] });
    expect(one).toMatch(/Noise, before the suites: N1\.\n\n\| suite/);
    const three = resultsMarkdown([row({})], 'npm run bench', { machine: 'M', repetitions: 5, noise: ['N1', 'N2', 'N3'] }, 3);
    expect(three).toContain("Noise, before each run's suites: run 1, N1; run 2, N2; run 3, N3.");
    expect(resultsMarkdown([row({})], 'npm run bench', { machine: 'M', repetitions: 5 })).not.toContain('Noise');
  });
});
