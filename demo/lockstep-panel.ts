/**
 * What the cells and optimizers panels share: a loss chart over a log step axis with a line per
 * configuration, a stats line, a caption, and Train / Stop (demo/lesson-controls.ts) running
 * `trainLockstep` (demo/lessons.ts) on the configurations the panel makes from its controls. After
 * every round of steps the chart and the panel's published state (`window.__demo.<panel>`, the page
 * test's view) follow the curves; at the end the panel words its stats and caption from its own rows.
 * Element ids are the panel's prefix and -chart, -stats, -caption, -train, -stop, -error.
 */
import type { Backend, TrainBatch } from '../src/index.js';
import { chartLabels } from './chart-labels.js';
import { COLORS, lineChart, placeholder, setLines } from './charts.js';
import { type StringKey, say, t } from './i18n.js';
import { wireTrainStop } from './lesson-controls.js';
import { type LessonCurve, type LessonRun, aligned, trainLockstep } from './lessons.js';
import { byId } from './ui.js';

/** A panel's published state: its rows are one per configuration, as the panel describes a curve. */
export interface LockstepState<Row> {
  steps: number;
  training: boolean;
  runs?: Row[];
  caption?: string;
}

/** One Train's work, as the panel makes it from its controls. */
export interface LockstepRun<Row> {
  runs: LessonRun[];
  batches: TrainBatch[];
  steps: number;
  /** The published row of configuration `i`'s curve. */
  row: (curve: LessonCurve, i: number) => Row;
}

export interface LockstepPanel<State extends LockstepState<Row>, Row> {
  prefix: string;
  backend: Backend;
  state: State;
  /** The loss axis, and each line's name and dash in the page's language. */
  axis: StringKey;
  series: () => Array<{ label: string; dash?: number[] }>;
  /** The caption before a run, and the stats line's progress ({step} of {steps}). */
  idle: StringKey;
  progress: StringKey;
  /** On Train: the configurations, and what the state holds besides steps, training, runs and caption. */
  start: () => LockstepRun<Row> & { extra?: Partial<State> };
  /** After the last round (or Stop), with the rounds done. */
  finish: (done: number, rows: Row[], stats: HTMLElement, caption: HTMLElement) => void;
}

export function setupLockstepPanel<State extends LockstepState<Row>, Row>(panel: LockstepPanel<State, Row>): void {
  const { prefix, state } = panel;
  const chart = lineChart(
    byId(`${prefix}-chart`),
    { label: t('ux.stepLog'), log: true },
    { label: t(panel.axis) },
    panel.series().map((s, i) => ({ ...s, color: COLORS[i] })),
  );
  chartLabels(chart, () => ({ x: t('ux.stepLog'), y: t(panel.axis), series: panel.series().map((s) => s.label) }));
  placeholder(chart, () => t('ux.pressTrain'));
  const stats = byId(`${prefix}-stats`);
  const caption = byId(`${prefix}-caption`);
  say(caption, () => t(panel.idle));

  wireTrainStop(`${prefix}-train`, `${prefix}-stop`, `${prefix}-error`, async (signal) => {
    const { runs, batches, steps, row, extra } = panel.start();
    Object.assign(state, { steps: 0, training: true, ...extra, runs: undefined, caption: undefined });
    say(caption, () => t(panel.idle));
    const publish = (curves: LessonCurve[]) => {
      state.steps = Math.max(...curves.map((c) => c.steps.at(-1) ?? 0));
      state.runs = curves.map(row);
      const { x, ys } = aligned(curves, 'losses');
      setLines(chart, x, ys);
    };
    try {
      const curves = await trainLockstep(runs, batches, steps, {
        backend: panel.backend,
        signal,
        onStep: (step, curves) => {
          publish(curves);
          say(stats, () => t(panel.progress, { step, steps }));
        },
      });
      publish(curves);
      panel.finish(state.steps, state.runs!, stats, caption);
    } finally {
      state.training = false;
    }
  });
}
