/**
 * The demo's charts, on uPlot (a small, well-kept charting library): line charts with axes, units and
 * a legend, and bar charts (categories on x). Each chart fills its container's width and follows it
 * when the page is resized; it shows its axes before it has data, and a message over it then (`placeholder`:
 * "press Train"), or greyed out with a message while what it showed is no longer valid (`greyOut`).
 * The legend shows a value only where the cursor points at one (never uPlot's "--").
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { onLanguageChange } from './i18n.js';

const HEIGHT = 260;
export const COLORS = ['#2f6fdb', '#d9480f', '#2b8a3e', '#7048e8', '#868e96'];

export interface LineSeries {
  label: string;
  color?: string;
  dash?: number[];
  /** Points drawn as well as lines (for sparse series such as a validation loss). */
  points?: boolean;
}

/**
 * A log scale's range (the bar chart's milliseconds): whole decades around the data, or a fixed one
 * before there is any.
 */
const logRange: uPlot.Range.Function = (_u, min, max) => {
  if (!(min > 0) || !(max > 0) || !Number.isFinite(min) || !Number.isFinite(max)) return [1e-6, 1];
  const lo = 10 ** Math.floor(Math.log10(min));
  const hi = 10 ** Math.ceil(Math.log10(max));
  return [lo, hi > lo ? hi : lo * 10];
};

/** A legend value: `format(v)`, or nothing where there is none (uPlot's own shows "--"). */
const legendValue =
  (format: (v: number) => string = (v) => (Number.isInteger(v) ? String(v) : v.toPrecision(4))) =>
  (_u: uPlot, v: number | null | undefined) =>
    v === null || v === undefined ? '' : format(v);

/** A linear scale's range: the data's with a little room, or 0 … 1 before there is any (so the axes show). */
const linearRange =
  (pad: number): uPlot.Range.Function =>
  (_u, min, max) =>
    min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max) ? [0, 1] : uPlot.rangeNum(min, max, pad, true);

/** The step axis on a log scale: whole decades around the data, 1 … 100 before there is any. */
const logSteps: uPlot.Range.Function = (_u, min, max) => {
  if (!(min > 0) || !(max > 0) || !Number.isFinite(min) || !Number.isFinite(max)) return [1, 100];
  return [10 ** Math.floor(Math.log10(min)), Math.max(10, 10 ** Math.ceil(Math.log10(max)))];
};

/** The message over each chart that has one, and what it says while empty and while greyed out. */
const overlays = new WeakMap<uPlot, { box: HTMLElement; empty?: () => string; greyed?: () => string }>();

function overlayOf(plot: uPlot): { box: HTMLElement; empty?: () => string; greyed?: () => string } {
  let o = overlays.get(plot);
  if (!o) {
    const box = document.createElement('p');
    box.className = 'chart-overlay';
    box.hidden = true;
    plot.root.parentElement!.append(box);
    o = { box };
    overlays.set(plot, o);
    const entry = o;
    onLanguageChange(() => showOverlay(plot, entry));
  }
  return o;
}

function showOverlay(plot: uPlot, o: { box: HTMLElement; empty?: () => string; greyed?: () => string }): void {
  const empty = plot.data[0].length === 0;
  const text = o.greyed ?? (empty ? o.empty : undefined);
  o.box.hidden = text === undefined;
  o.box.textContent = text?.() ?? '';
  plot.root.parentElement!.classList.toggle('greyed', o.greyed !== undefined);
}

/** Shows `text()` over `plot` while it has no data (before the first run), in the page's language. */
export function placeholder(plot: uPlot, text: () => string): void {
  const o = overlayOf(plot);
  o.empty = text;
  showOverlay(plot, o);
}

/** Greys `plot` out with `text()` over it, what it shows being stale (an invalid input); no text: back to normal. */
export function greyOut(plot: uPlot, text?: () => string): void {
  const o = overlayOf(plot);
  o.greyed = text;
  showOverlay(plot, o);
}

/** After new data: the placeholder hides (or shows, for no data). */
function refreshOverlay(plot: uPlot): void {
  const o = overlays.get(plot);
  if (o) showOverlay(plot, o);
}

/** A uPlot chart that keeps its container's width. */
function sized(container: HTMLElement, options: Omit<uPlot.Options, 'width' | 'height'>, data: uPlot.AlignedData): uPlot {
  const width = () => Math.max(280, container.clientWidth);
  const plot = new uPlot({ ...options, width: width(), height: HEIGHT }, data, container);
  new ResizeObserver(() => plot.setSize({ width: width(), height: HEIGHT })).observe(container);
  return plot;
}

/**
 * Lines over a numeric x. With `log`, y is drawn as log₁₀ on a linear axis labelled in powers of ten
 * (values ≤ 0 are left out, as gaps): gradients span hundreds of decades, past what uPlot's own log
 * scale can split (its tick arithmetic stops near 1e-16).
 */
export function lineChart(container: HTMLElement, x: { label: string; log?: boolean }, y: { label: string; log?: boolean }, series: LineSeries[]): uPlot {
  const value = y.log ? legendValue((v) => (10 ** v).toExponential(2)) : legendValue();
  return sized(
    container,
    {
      // x on a log scale where the early steps matter (a loss's first drop); both axes drawn before any data.
      scales: {
        x: x.log ? { time: false, distr: 3, log: 10, range: logSteps } : { time: false, range: linearRange(0) },
        y: { range: linearRange(0.1) },
      },
      axes: [
        { label: x.label },
        {
          label: y.label,
          size: 70,
          ...(y.log ? { values: (_u: uPlot, splits: number[]) => splits.map((v) => (Number.isInteger(v) ? `1e${v}` : '')) } : {}),
        },
      ],
      series: [
        { label: x.label, value: legendValue() },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: s.color ?? COLORS[i % COLORS.length],
          width: 2,
          dash: s.dash,
          spanGaps: false,
          points: { show: s.points ?? false, size: 6 },
          value,
        })),
      ],
      legend: { live: true },
    },
    [[], ...series.map(() => [])],
  );
}

/** Replaces a line chart's data: x, then one array per series (null for a gap); `log` as the chart was made. */
export function setLines(plot: uPlot, x: number[], ys: Array<Array<number | null>>, log = false): void {
  const clean = ys.map((y) => (log ? y.map((v) => (v !== null && v > 0 && Number.isFinite(v) ? Math.log10(v) : null)) : y));
  plot.setData([x, ...clean] as uPlot.AlignedData);
  refreshOverlay(plot);
}

/**
 * Bars by category: `series` side by side at each category (one bar each; log y optional). The
 * categories are the x axis's labels.
 */
export function barChart(
  container: HTMLElement,
  yLabel: string,
  series: string[],
  log = false,
): { plot: uPlot; set: (categories: string[], values: Array<Array<number | null>>) => void } {
  const n = series.length;
  // Category i's bars sit at x = i + offset(s); the other series are null there.
  const offset = (s: number) => (n === 1 ? 0 : (s - (n - 1) / 2) * (0.8 / n));
  let labels: string[] = [];
  const bars = uPlot.paths.bars!({ size: [n === 1 ? 0.7 : 0.95, 80] });
  const plot = sized(
    container,
    {
      scales: {
        x: { time: false, range: (_u, min, max) => [Math.round(min) - 0.6, Math.round(max) + 0.6] },
        y: log ? { distr: 3, log: 10, range: logRange } : { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        { splits: () => labels.map((_, i) => i), values: (_u, splits) => splits.map((v) => labels[Math.round(v)] ?? ''), size: 40, gap: 4 },
        { label: yLabel, size: 70 },
      ],
      series: [
        { label: 'shape', value: (_u, v) => (v === null ? '' : (labels[Math.round(v)] ?? '')) },
        ...series.map((label, i) => ({
          label,
          fill: COLORS[i % COLORS.length],
          stroke: COLORS[i % COLORS.length],
          paths: bars,
          points: { show: false },
          value: legendValue(),
        })),
      ],
      legend: { show: n > 1 },
    },
    [[], ...series.map(() => [])],
  );
  return {
    plot,
    set(categories, values) {
      labels = categories;
      const xs: number[] = [];
      const ys = series.map(() => [] as Array<number | null>);
      categories.forEach((_, i) =>
        series.forEach((_, s) => {
          xs.push(i + offset(s));
          ys.forEach((y, k) => y.push(k === s ? (values[s][i] ?? null) : null));
        }),
      );
      plot.setData([xs, ...ys] as uPlot.AlignedData);
      refreshOverlay(plot);
    },
  };
}
