/**
 * Exploding gradients and clipping: a ReLU RNN whose recurrent matrix starts at s·I (s > 1: its state
 * and gradient grow like s^T) learns the next character twice from the same seeded weights and
 * batches with plain SGD — once as it is, once with clip_grad_norm_ (the library's
 * optimizer.clip_grad_norm) — interleaved step by step (demo/lessons.ts). The loss and the gradient
 * norm ‖g‖ (before clipping) on log scales; the unclipped run stops where the library reports a
 * non-finite step (NON_FINITE, naming it), and the caption says at which step, and what the clipped
 * run did (demo/training-captions.ts). Deterministic: the same controls give the same run.
 */
import { COLORS, lineChart, placeholder, setLines } from '../charts.js';
import { chartLabels } from '../chart-labels.js';
import { language, say, t } from '../i18n.js';
import { wireTrainStop } from '../lesson-controls.js';
import { type LessonCurve, aligned, charModel, charTask, identityRecurrentWeights, trainLockstep } from '../lessons.js';
import type { PageContext } from '../main.js';
import { type ClipRun, clippingCaption } from '../training-captions.js';
import { byId, numberInput } from '../ui.js';

const [T, B] = [24, 8];
const [EMBEDDING, HIDDEN] = [16, 32];
const WEIGHT_SEED = 3;

export interface ClipSideState {
  losses: number[];
  gradNorms: number[];
  diverged?: { step: number; loss: number; gradNorm: number };
}

export interface ClippingState {
  steps: number;
  training: boolean;
  scale?: number;
  lr?: number;
  maxNorm?: number;
  plain?: ClipSideState;
  clipped?: ClipSideState;
  caption?: string;
}

export function setupClipping(page: PageContext): void {
  const state: ClippingState = { steps: 0, training: false };
  window.__demo!.clipping = state;
  let maxNorm = numberInput('cp-norm');
  const series = () => [
    { label: t('clip.seriesPlain'), color: COLORS[1] },
    { label: t('clip.seriesClipped', { c: maxNorm }), color: COLORS[0] },
  ];
  const lossChart = lineChart(byId('cp-loss-chart'), { label: t('ux.stepLog'), log: true }, { label: t('clip.axisLoss'), log: true }, series());
  const normChart = lineChart(byId('cp-norm-chart'), { label: t('ux.stepLog'), log: true }, { label: t('clip.axisNorm'), log: true }, series());
  for (const [chart, y] of [
    [lossChart, 'clip.axisLoss'],
    [normChart, 'clip.axisNorm'],
  ] as const) {
    chartLabels(chart, () => ({ x: t('ux.stepLog'), y: t(y), series: series().map((s) => s.label) }));
    placeholder(chart, () => t('ux.pressTrain'));
  }
  const stats = byId('cp-stats');
  const caption = byId('cp-caption');

  wireTrainStop('cp-train', 'cp-stop', 'cp-error', async (signal) => {
    const scale = numberInput('cp-scale');
    const lr = numberInput('cp-lr');
    maxNorm = numberInput('cp-norm');
    const steps = numberInput('cp-steps');
    const task = charTask(T, B);
    const model = charModel(task, 'RNN_RELU', EMBEDDING, HIDDEN);
    const weights = identityRecurrentWeights(model, scale, WEIGHT_SEED);
    Object.assign(state, { steps: 0, training: true, scale, lr, maxNorm, plain: undefined, clipped: undefined, caption: undefined });
    say(caption);
    for (const chart of [lossChart, normChart]) chartLabels(chart, () => ({ series: series().map((s) => s.label) }));
    const runs = [
      { id: 'plain', options: { model, weights, optimizer: { name: 'sgd' as const, lr }, seed: 1 } },
      { id: 'clipped', options: { model, weights, optimizer: { name: 'sgd' as const, lr, clip_grad_norm: maxNorm }, seed: 1 } },
    ];
    const side = (c: LessonCurve): ClipSideState => ({ losses: c.losses, gradNorms: c.gradNorms, diverged: c.diverged });
    const publish = (curves: LessonCurve[]) => {
      state.steps = Math.max(...curves.map((c) => c.steps.at(-1) ?? 0));
      [state.plain, state.clipped] = curves.map(side);
      const loss = aligned(curves, 'losses');
      setLines(lossChart, loss.x, loss.ys, true);
      const norm = aligned(curves, 'gradNorms');
      setLines(normChart, norm.x, norm.ys, true);
    };
    try {
      const curves = await trainLockstep(runs, task.batches, steps, {
        backend: page.backend,
        signal,
        onStep: (step, curves) => {
          publish(curves);
          say(stats, () => t('clip.progress', { step, steps }));
        },
      });
      publish(curves);
      if (state.steps > 0) {
        const run: ClipRun = { steps: state.steps, scale, lr, maxNorm, plain: state.plain!, clipped: state.clipped! };
        say(caption, () => {
          state.caption = clippingCaption(run, language());
          return state.caption;
        });
      }
    } finally {
      state.training = false;
    }
  });
}
