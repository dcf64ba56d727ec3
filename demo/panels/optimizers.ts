/**
 * Optimizers and schedules: five copies of the same next-character LSTM (the same seeded start, the
 * same batches in the same order) trained at once, interleaved step by step (demo/lessons.ts), with
 * SGD, SGD with momentum, Adam, RMSprop and Adam with a cosine schedule — each at its usual learning
 * rate — and their loss curves overlaid; the caption ranks them by the loss after the same steps and
 * compares momentum with SGD and the schedule with constant-rate Adam (demo/training-captions.ts). The
 * chart, Train / Stop and the published state are demo/lockstep-panel.ts's, shared with the cells panel.
 */
import type { OptimizerConfigInput } from '../../src/index.js';
import { type StringKey, language, say, t } from '../i18n.js';
import { charModel, charTask, finalLoss } from '../lessons.js';
import { setupLockstepPanel } from '../lockstep-panel.js';
import type { PageContext } from '../main.js';
import { type OptimizerId, optimizersCaption } from '../training-captions.js';
import { numberInput } from '../ui.js';

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
  setupLockstepPanel<OptimizersState, NonNullable<OptimizersState['runs']>[number]>({
    prefix: 'op',
    backend: page.backend,
    state,
    axis: 'opt.axisLoss',
    series: () => OPTIMIZERS.map((o) => ({ label: t(o.label, { lr: o.lr, mu: MOMENTUM }), dash: o.id === 'cosine' ? [6, 4] : undefined })),
    idle: 'opt.caption',
    progress: 'opt.progress',
    start: () => {
      const H = numberInput('op-hidden');
      const steps = numberInput('op-steps');
      const task = charTask(T, B);
      const model = charModel(task, 'LSTM', EMBEDDING, H);
      return {
        runs: OPTIMIZERS.map((o) => ({ id: o.id, options: { model, optimizer: o.config(steps), init: { seed: 1 }, seed: 1 } })),
        batches: task.batches,
        steps,
        row: (c, i) => ({
          id: OPTIMIZERS[i].id,
          lr: OPTIMIZERS[i].lr,
          losses: c.losses,
          finalLoss: c.diverged ? Number.NaN : finalLoss(c, TAIL),
          divergedAt: c.diverged?.step,
        }),
      };
    },
    finish: (done, rows, _stats, caption) => {
      if (done === 0) return;
      const results = rows.map((r) => ({ id: r.id, loss: r.finalLoss, start: r.losses[0] ?? Number.NaN, divergedAt: r.divergedAt }));
      say(caption, () => {
        state.caption = optimizersCaption(done, results, language());
        return state.caption;
      });
    },
  });
}
