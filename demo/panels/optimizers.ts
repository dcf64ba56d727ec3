/**
 * Optimizers and schedules: five copies of the same next-character LSTM (the same seeded start, the
 * same batches in the same order) trained at once, interleaved step by step (demo/lessons.ts), with
 * SGD, SGD with momentum, Adam, RMSprop and Adam with a cosine schedule — each at its usual learning
 * rate — and their loss curves overlaid; the caption ranks them by the loss after the same steps and
 * compares momentum with SGD and the schedule with constant-rate Adam (demo/training-captions.ts).
 */
import type { OptimizerConfigInput } from '../../src/index.js';
import { COLORS, lineChart, placeholder, setLines } from '../charts.js';
import { chartLabels } from '../chart-labels.js';
import { type StringKey, language, say, t } from '../i18n.js';
import { wireTrainStop } from '../lesson-controls.js';
import { type LessonCurve, aligned, charModel, charTask, finalLoss, trainLockstep } from '../lessons.js';
import type { PageContext } from '../main.js';
import { type OptimizerId, optimizersCaption } from '../training-captions.js';
import { byId, numberInput } from '../ui.js';

const [T, B] = [16, 8];
const EMBEDDING = 16;
const MOMENTUM = 0.9;
const TAIL = 5;

/** Each optimizer at its usual learning rate for this task; the cosine one's T_max is the run's steps. */
const OPTIMIZERS: Array<{ id: OptimizerId; label: StringKey; lr: number; config: (steps: number) => OptimizerConfigInput }> = [
  { id: 'sgd', label: 'opt.seriesSgd', lr: 1, config: () => ({ name: 'sgd', lr: 1 }) },
  { id: 'momentum', label: 'opt.seriesMomentum', lr: 0.1, config: () => ({ name: 'sgd', lr: 0.1, momentum: MOMENTUM }) },
  { id: 'adam', label: 'opt.seriesAdam', lr: 0.01, config: () => ({ name: 'adam', lr: 0.01 }) },
  { id: 'rmsprop', label: 'opt.seriesRmsprop', lr: 0.003, config: () => ({ name: 'rmsprop', lr: 0.003 }) },
  { id: 'cosine', label: 'opt.seriesCosine', lr: 0.02, config: (steps) => ({ name: 'adam', lr: 0.02, lr_schedule: { name: 'cosine', T_max: steps } }) },
];

export interface OptimizersState {
  steps: number;
  training: boolean;
  runs?: Array<{ id: OptimizerId; lr: number; losses: number[]; finalLoss: number; divergedAt?: number }>;
  caption?: string;
}

export function setupOptimizers(page: PageContext): void {
  const state: OptimizersState = { steps: 0, training: false };
  window.__demo!.optimizers = state;
  const labels = () => OPTIMIZERS.map((o) => t(o.label, { lr: o.lr, mu: MOMENTUM }));
  const chart = lineChart(
    byId('op-chart'),
    { label: t('ux.stepLog'), log: true },
    { label: t('opt.axisLoss') },
    labels().map((label, i) => ({ label, color: COLORS[i], dash: OPTIMIZERS[i].id === 'cosine' ? [6, 4] : undefined })),
  );
  chartLabels(chart, () => ({ x: t('ux.stepLog'), y: t('opt.axisLoss'), series: labels() }));
  placeholder(chart, () => t('ux.pressTrain'));
  const stats = byId('op-stats');
  const caption = byId('op-caption');
  say(caption, () => t('opt.caption'));

  wireTrainStop('op-train', 'op-stop', 'op-error', async (signal) => {
    const H = numberInput('op-hidden');
    const steps = numberInput('op-steps');
    const task = charTask(T, B);
    const model = charModel(task, 'LSTM', EMBEDDING, H);
    Object.assign(state, { steps: 0, training: true, runs: undefined, caption: undefined });
    say(caption, () => t('opt.caption'));
    const runs = OPTIMIZERS.map((o) => ({ id: o.id, options: { model, optimizer: o.config(steps), init: { seed: 1 }, seed: 1 } }));
    const publish = (curves: LessonCurve[]) => {
      state.steps = Math.max(...curves.map((c) => c.steps.at(-1) ?? 0));
      state.runs = curves.map((c, i) => ({
        id: OPTIMIZERS[i].id,
        lr: OPTIMIZERS[i].lr,
        losses: c.losses,
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
          say(stats, () => t('opt.progress', { step, steps }));
        },
      });
      publish(curves);
      const done = state.steps;
      if (done > 0) {
        const results = state.runs!.map((r) => ({ id: r.id, loss: r.finalLoss, start: r.losses[0] ?? Number.NaN, divergedAt: r.divergedAt }));
        say(caption, () => {
          state.caption = optimizersCaption(done, results, language());
          return state.caption;
        });
      }
    } finally {
      state.training = false;
    }
  });
}
