/**
 * Overfitting, dropout and early stopping: a two-layer LSTM character model on a few hundred
 * characters of the everyday sentences (demo/lesson-tasks.ts), so few that it learns them by heart and
 * its loss on the sentences that follow turns up. Trained twice with the library's `fit` — without
 * dropout, and with dropout between the layers (`dropout`) and on h_{t−1} (`recurrent_dropout`) —
 * each with a validation every VALIDATE_EVERY steps, early stopping (patience) and restoreBest. At each
 * validation the training text's loss is measured too, in evaluation mode (no dropout), so both curves
 * of a run are the same model measured the same way, and the gap between them is the overfitting.
 * The early-stopping point (the step whose weights are kept) is marked on each held-out curve.
 * The chart and Run / Stop are demo/run-panel.ts's, shared with the bidirectional panel.
 */
import { type ModelConfigInput, resolveModelConfig } from '../../src/index.js';
import { COLORS, setLines } from '../charts.js';
import { everydayCorpus } from '../corpora/everyday.js';
import { language, say, t } from '../i18n.js';
import { type OverfitRun, overfitCaption } from '../lesson-captions.js';
import { smallCorpusTask } from '../lesson-tasks.js';
import type { PageContext } from '../main.js';
import { runPanelChart, wireRunStop } from '../run-panel.js';
import { openTrainer } from '../trainer-host.js';
import { byId, numberInput } from '../ui.js';

const TRAIN_CHARS = 600;
const HELD_OUT_CHARS = 400;
const T = 24;
const B = 8;
const VALIDATE_EVERY = 5;
const LAYERS = 2;
const LEARNING_RATE = 0.03;

/** One run's curve: the validation steps, the training text's and the held-out loss there. */
interface Curve {
  steps: number[];
  train: number[];
  heldOut: number[];
}

export function setupOverfitting(page: PageContext): void {
  const blue = COLORS[0];
  const orange = COLORS[1];
  const chart = runPanelChart(
    'of',
    { x: 'of.axisStep', y: 'of.axisNats' },
    [
      { label: () => t('of.seriesTrainPlain'), color: blue },
      { label: () => t('of.seriesHeldPlain'), color: blue, dash: [6, 4], points: true },
      { label: () => t('of.seriesTrainDropout'), color: orange },
      { label: () => t('of.seriesHeldDropout'), color: orange, dash: [6, 4], points: true },
      { label: () => t('of.seriesStop'), color: '#1d232a', points: true },
    ],
    'of.pressRun',
  );
  const stats = byId('of-stats');
  const caption = byId('of-caption');

  const curves: Curve[] = [];
  const marks: Array<{ step: number; loss: number } | undefined> = [];
  const redraw = () => {
    const steps = [...new Set(curves.flatMap((c) => c.steps))].sort((a, b) => a - b);
    const at = (c: Curve | undefined, which: 'train' | 'heldOut') => steps.map((s) => (c?.steps.includes(s) ? c[which][c.steps.indexOf(s)] : null));
    const mark = steps.map((s) => marks.find((m) => m?.step === s)?.loss ?? null);
    setLines(chart, steps, [at(curves[0], 'train'), at(curves[0], 'heldOut'), at(curves[1], 'train'), at(curves[1], 'heldOut'), mark]);
  };

  wireRunStop('of', async (signal) => {
    const hidden = numberInput('of-hidden');
    const maxSteps = numberInput('of-steps');
    const rate = numberInput('of-dropout');
    const recurrentRate = numberInput('of-recurrent');
    const patience = numberInput('of-patience');
    const task = smallCorpusTask(everydayCorpus(), TRAIN_CHARS, HELD_OUT_CHARS, T, B);
    const V = task.vocab.chars.length;
    curves.length = 0;
    marks.length = 0;
    delete window.__demo!.overfitting;
    say(caption);
    redraw();
    const runs: OverfitRun[] = [];
    for (const [k, dropout] of [0, 1].entries()) {
      const model: ModelConfigInput = {
        embedding: { num_embeddings: V, embedding_dim: 32 },
        rnn: {
          mode: 'LSTM',
          input_size: 32,
          hidden_size: hidden,
          num_layers: LAYERS,
          dropout: dropout ? rate : 0,
          recurrent_dropout: dropout ? recurrentRate : 0,
        },
        head: { out_features: V },
        loss: 'cross_entropy',
      };
      const trainer = await openTrainer({
        model: resolveModelConfig(model),
        backend: page.backend,
        init: { seed: 1, forgetBias: 1 },
        seed: 1,
        optimizer: { name: 'adam', lr: LEARNING_RATE },
      });
      const curve: Curve = { steps: [], train: [], heldOut: [] };
      curves.push(curve);
      try {
        const report = await trainer.fit(task.train, {
          epochs: 100_000,
          maxSteps,
          validation: task.heldOut,
          validateEvery: VALIDATE_EVERY,
          earlyStopping: { patience },
          restoreBest: true,
          readEvery: VALIDATE_EVERY,
          signal,
          onProgress: async (p) => {
            if (p.validationLoss === undefined) return;
            // The training text in evaluation mode: the same model, measured as the held-out text is.
            let train = 0;
            for (const b of task.train) train += await trainer.evaluate(b);
            curve.steps.push(p.step);
            curve.train.push(train / task.train.length);
            curve.heldOut.push(p.validationLoss);
            redraw();
            const name = k === 0 ? t('of.runPlain') : t('of.runDropout');
            const values = { name, step: p.step, max: maxSteps, train: (train / task.train.length).toFixed(3), heldOut: p.validationLoss.toFixed(3) };
            say(stats, () => t('of.progress', { ...values, name: k === 0 ? t('of.runPlain') : t('of.runDropout') }));
          },
        });
        if (!curve.steps.length) return;
        const best = curve.heldOut.indexOf(Math.min(...curve.heldOut));
        marks.push({ step: curve.steps[best], loss: curve.heldOut[best] });
        redraw();
        runs.push({
          bestStep: curve.steps[best],
          bestLoss: curve.heldOut[best],
          lastStep: curve.steps.at(-1)!,
          lastLoss: curve.heldOut.at(-1)!,
          early: report.stopped === 'early',
          gap: Number.NaN, // set below, at the last step both runs reached
        });
        if (report.stopped === 'aborted') return;
      } finally {
        await trainer.destroy();
      }
    }
    const [plain, dropout] = runs;
    // The gaps compared at one step: the last validation both runs reached (early stopping may end one sooner).
    const gapStep = Math.min(plain.lastStep, dropout.lastStep);
    runs.forEach((r, k) => {
      const i = curves[k].steps.indexOf(gapStep);
      r.gap = curves[k].heldOut[i] - curves[k].train[i];
    });
    const result = { plain, dropout, patience, gapStep, rate, recurrentRate };
    window.__demo!.overfitting = { ...result, curves: curves.map((c) => ({ ...c })), vocabulary: V, trainChars: TRAIN_CHARS, heldOutChars: HELD_OUT_CHARS };
    say(stats, () => t('of.done', { chars: TRAIN_CHARS, held: HELD_OUT_CHARS, V }));
    say(caption, () => overfitCaption(result, language()));
  });
}
