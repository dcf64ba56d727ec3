/**
 * What the overfitting and bidirectional panels share: their chart, named in the page's language (each
 * axis and series given once, as a string key or a function of the language, not once in English for
 * uPlot and again for the switch), with a "press Run" placeholder; and Run / Stop, where Run runs the
 * panel's work with an AbortSignal (its error shown beside the controls) and Stop stays enabled until
 * that work has ended — after a press too, since a fit sees the abort only at its next step.
 * Element ids are the panel's prefix and -chart, -run, -stop, -error.
 */
import type uPlot from 'uplot';
import { chartLabels } from './chart-labels.js';
import { type LineSeries, lineChart, placeholder } from './charts.js';
import { type StringKey, t } from './i18n.js';
import { busy, byId } from './ui.js';

/** A line of the chart, its name a function of the page's language. */
export type NamedSeries = Omit<LineSeries, 'label'> & { label: () => string };

export function runPanelChart(prefix: string, axes: { x: StringKey; y: StringKey }, series: NamedSeries[], pressRun: StringKey): uPlot {
  const chart = lineChart(
    byId(`${prefix}-chart`),
    { label: t(axes.x) },
    { label: t(axes.y) },
    series.map((s) => ({ ...s, label: s.label() })),
  );
  chartLabels(chart, () => ({ x: t(axes.x), y: t(axes.y), series: series.map((s) => s.label()) }));
  placeholder(chart, () => t(pressRun));
  return chart;
}

export function wireRunStop(prefix: string, work: (signal: AbortSignal) => Promise<void>): void {
  const runButton = byId<HTMLButtonElement>(`${prefix}-run`);
  const stopButton = byId<HTMLButtonElement>(`${prefix}-stop`);
  let stop: AbortController | undefined;
  stopButton.addEventListener('click', () => stop?.abort());
  runButton.addEventListener(
    'click',
    () =>
      void busy(runButton, `${prefix}-error`, async () => {
        stop = new AbortController();
        stopButton.disabled = false;
        try {
          await work(stop.signal);
        } finally {
          stopButton.disabled = true;
          stop = undefined;
        }
      }),
  );
}
