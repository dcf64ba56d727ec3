/**
 * LSTM vs GRU vs RNN, side by side: the same next-character task (the everyday sentences) trained with
 * each cell at once — the same embedding size I, hidden size H, initialisation seed, batches, optimizer
 * and steps, interleaved step by step (demo/lessons.ts) — with the loss curves overlaid, each cell's
 * recurrent parameter count from the config (PyTorch's count), the median time per step, and a caption
 * naming which learned faster on this run, with the numbers (demo/training-captions.ts).
 */
import type { RnnMode } from '../../src/index.js';
import { COLORS, lineChart, placeholder, setLines } from '../charts.js';
import { chartLabels } from '../chart-labels.js';
import { language, say, t } from '../i18n.js';
import { wireTrainStop } from '../lesson-controls.js';
import { type LessonCurve, aligned, charModel, charTask, finalLoss, recurrentParameters, trainLockstep } from '../lessons.js';
import type { PageContext } from '../main.js';
import { type CellName, cellsCaption } from '../training-captions.js';
import { byId, numberInput } from '../ui.js';

const CELLS: Array<{ cell: CellName; mode: RnnMode }> = [
  { cell: 'RNN', mode: 'RNN_TANH' },
  { cell: 'GRU', mode: 'GRU' },
  { cell: 'LSTM', mode: 'LSTM' },
];
const [T, B] = [16, 8];
const LR = 0.01;
/** The caption compares the mean loss of this many last steps. */
const TAIL = 5;

export interface CellsState {
  steps: number;
  training: boolean;
  embedding?: number;
  hidden?: number;
  runs?: Array<{ cell: CellName; mode: RnnMode; parameters: number; losses: number[]; msPerStep: number; finalLoss: number; divergedAt?: number }>;
  caption?: string;
}

export function setupCells(page: PageContext): void {
  const state: CellsState = { steps: 0, training: false };
  window.__demo!.cells = state;
  const chart = lineChart(
    byId('cl-chart'),
    { label: t('ux.stepLog'), log: true },
    { label: t('cells.axisLoss') },
    CELLS.map((c, i) => ({ label: c.cell, color: COLORS[i] })),
  );
  chartLabels(chart, () => ({ x: t('ux.stepLog'), y: t('cells.axisLoss'), series: CELLS.map((c) => (c.cell === 'RNN' ? t('cells.seriesRnn') : c.cell)) }));
  placeholder(chart, () => t('ux.pressTrain'));
  const stats = byId('cl-stats');
  const caption = byId('cl-caption');
  say(caption, () => t('cells.caption'));

  wireTrainStop('cl-train', 'cl-stop', 'cl-error', async (signal) => {
    const I = numberInput('cl-embedding');
    const H = numberInput('cl-hidden');
    const steps = numberInput('cl-steps');
    const task = charTask(T, B);
    const parameters = CELLS.map((c) => recurrentParameters(c.mode, I, H));
    Object.assign(state, { steps: 0, training: true, embedding: I, hidden: H, runs: undefined, caption: undefined });
    say(caption, () => t('cells.caption'));
    const runs = CELLS.map((c) => ({
      id: c.cell,
      options: { model: charModel(task, c.mode, I, H), optimizer: { name: 'adam' as const, lr: LR }, init: { seed: 1 }, seed: 1 },
    }));
    const publish = (curves: LessonCurve[]) => {
      state.steps = Math.max(...curves.map((c) => c.steps.at(-1) ?? 0));
      state.runs = curves.map((c, i) => ({
        cell: CELLS[i].cell,
        mode: CELLS[i].mode,
        parameters: parameters[i],
        losses: c.losses,
        msPerStep: c.msPerStep,
        finalLoss: c.diverged ? Number.NaN : finalLoss(c, TAIL),
        divergedAt: c.diverged?.step,
      }));
      const { x, ys } = aligned(curves, 'losses');
      setLines(chart, x, ys);
    };
    try {
      const curves = await trainLockstep(runs, task.batches, steps, {
        backend: page.backend,
        signal,
        onStep: (step, curves) => {
          publish(curves);
          say(stats, () => t('cells.progress', { step, steps }));
        },
      });
      publish(curves);
      const done = state.steps;
      const results = state.runs!.map((r) => ({ cell: r.cell, loss: r.finalLoss, parameters: r.parameters, msPerStep: r.msPerStep, divergedAt: r.divergedAt }));
      say(stats, () =>
        state
          .runs!.map((r) =>
            t('cells.statsItem', { cell: r.cell, p: r.parameters.toLocaleString(language() === 'zh' ? 'zh-CN' : 'en-US'), ms: r.msPerStep.toFixed(1) }),
          )
          .join(t('cells.statsSep')),
      );
      if (done > 0) {
        state.caption = cellsCaption(done, results, language());
        say(caption, () => {
          state.caption = cellsCaption(done, results, language());
          return state.caption;
        });
      }
    } finally {
      state.training = false;
    }
  });
}
