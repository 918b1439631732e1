/**
 * `--chart FILE.svg`: every figure's ratios as a bar chart — against its
 * first peer and against its hardest floor (see chartBars) — drawn by
 * vega-lite (compiled to a vega spec) and rendered headlessly to SVG by vega
 * (no browser, no canvas). Bars on a log scale, a rule at 1× (right of it:
 * rxwire does better); the caption gives the date, Node version and CPU of
 * the run measured (a `--from` run's own). docs/bench.svg is one.
 */
import * as fs from 'node:fs';
import type { Row } from './harness';
import { figures, machineLine } from './summary';

/** One bar. */
interface Bar {
  figure: string;
  against: string;
  ratio: number;
  baseline: string;
}

/**
 * The bars of `rows`: per figure, its first peer (the one a user would pick
 * instead) and its hardest floor, the one rxwire comes least close to (a
 * figure with several floors — the process ring's wake-up ping-pong, both
 * sides spinning, a bare ring — is as close to the machine's limit as to the
 * nearest of them, not the first one listed).
 */
export function chartBars(rows: readonly Row[]): Bar[] {
  const bars: Bar[] = [];
  for (const f of figures(rows)) {
    const figure = `${f.suite}: ${f.case}`;
    const peer = f.peers[0];
    const floor = f.floors.reduce<(typeof f.floors)[number] | undefined>((hardest, e) => (hardest === undefined || e.ratio < hardest.ratio ? e : hardest), undefined);
    if (peer) bars.push({ figure, against: 'vs peer', ratio: peer.ratio, baseline: peer.name });
    if (floor) bars.push({ figure, against: 'vs floor', ratio: floor.ratio, baseline: floor.name });
  }
  return bars;
}

/** The vega-lite specification of the chart. */
export function chartSpec(rows: readonly Row[], caption = machineLine()): object {
  const bars = chartBars(rows);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: 'rxwire: each figure against its peer and its floor (> 1×: rxwire better)', subtitle: caption },
    width: 520,
    data: { values: bars },
    layer: [
      {
        mark: { type: 'bar', height: { band: 0.9 } },
        encoding: {
          y: { field: 'figure', type: 'nominal', sort: null, title: null, axis: { labelLimit: 420 } },
          yOffset: { field: 'against', sort: ['vs peer', 'vs floor'] },
          // Each bar runs from 1× to the ratio: right of the rule rxwire does better, left worse.
          x: { field: 'ratio', type: 'quantitative', scale: { type: 'log', domain: [0.01, 100], clamp: true }, title: 'ratio (log scale; > 1×: rxwire better)' },
          x2: { datum: 1 },
          color: { field: 'against', type: 'nominal', sort: ['vs peer', 'vs floor'], scale: { range: ['#4c78a8', '#f58518'] }, title: null },
          tooltip: [{ field: 'figure' }, { field: 'baseline' }, { field: 'ratio', format: '.2f' }],
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 3, fontSize: 9, clip: false },
        encoding: {
          y: { field: 'figure', type: 'nominal', sort: null },
          yOffset: { field: 'against', sort: ['vs peer', 'vs floor'] },
          x: { field: 'ratio', type: 'quantitative', scale: { type: 'log', domain: [0.01, 100], clamp: true } },
          text: { field: 'ratio', format: '.2f' },
        },
      },
      { data: { values: [{ one: 1 }] }, mark: { type: 'rule', strokeDash: [4, 3], color: '#333' }, encoding: { x: { field: 'one', type: 'quantitative' } } },
    ],
    config: { font: 'DejaVu Sans, Helvetica, Arial, sans-serif', axis: { labelFontSize: 10 } },
  };
}

/** Renders the chart of `rows` to an SVG string. */
export async function chartSvg(rows: readonly Row[], caption?: string): Promise<string> {
  // Loaded here, not at the top: only --chart needs them (devDependencies).
  const vega = (await import('vega')) as typeof import('vega');
  const vegaLite = (await import('vega-lite')) as typeof import('vega-lite');
  const compiled = vegaLite.compile(chartSpec(rows, caption) as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Writes the chart of `rows` to `file`. */
export async function writeChart(file: string, rows: readonly Row[], caption?: string): Promise<void> {
  fs.writeFileSync(file, await chartSvg(rows, caption));
}
