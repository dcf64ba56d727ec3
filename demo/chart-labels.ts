/**
 * A chart's words in the page's language: its axis labels (drawn on the canvas) and its legend's series
 * names, written now and again whenever the language changes (demo/i18n.ts), without touching its data.
 */
import type uPlot from 'uplot';
import { onLanguageChange } from './i18n.js';

export interface ChartLabels {
  x?: string;
  y?: string;
  /** The data series' names, in order (the x series not counted). */
  series?: string[];
}

export function chartLabels(plot: uPlot, labels: () => ChartLabels): void {
  onLanguageChange(() => {
    const l = labels();
    if (l.x !== undefined) {
      plot.axes[0].label = l.x;
      plot.series[0].label = l.x;
    }
    if (l.y !== undefined) plot.axes[1].label = l.y;
    l.series?.forEach((name, i) => {
      if (plot.series[i + 1]) plot.series[i + 1].label = name;
    });
    // The legend's rows were built from the labels once: the x series first, then each data series.
    const rows = plot.root.querySelectorAll<HTMLElement>('.u-legend .u-series');
    plot.series.forEach((s, i) => {
      const cell = rows[i]?.querySelector<HTMLElement>('.u-label');
      if (cell && typeof s.label === 'string') cell.textContent = s.label;
    });
    plot.redraw(false, true);
  });
}
