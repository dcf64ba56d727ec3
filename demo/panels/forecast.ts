/**
 * Forecasting: a noisy periodic series (two sines and seeded noise), a small GRU or LSTM regressor that
 * reads one value per step and predicts the next (a head on every step, MSE), trained with `fit` on
 * windows of the first 80%, then run over the whole series with trainer.predict: its one-step-ahead
 * predictions on the held-out 20%, plotted against the truth, with the error of the naive forecast
 * (tomorrow = today) for scale.
 */
import type { TrainBatch } from '../../src/index.js';
import { seededUniform } from '../../src/random.js';
import { chartLabels } from '../chart-labels.js';
import { lineChart, setLines } from '../charts.js';
import { say, t } from '../i18n.js';
import type { PageContext } from '../main.js';
import { openTrainer } from '../trainer-host.js';
import { busy, byId, numberInput } from '../ui.js';

const LENGTH = 600;
const SPLIT = Math.floor(LENGTH * 0.8);
const WINDOW = 40;

function series(): Float32Array {
  const next = seededUniform(11);
  return Float32Array.from({ length: LENGTH }, (_, t) => Math.sin((2 * Math.PI * t) / 25) + 0.5 * Math.sin((2 * Math.PI * t) / 9) + 0.15 * (2 * next() - 1));
}

/** Windows of the training part, input x_t and target x_{t+1}, B of them per batch (time-major). */
function windows(x: Float32Array, B: number): TrainBatch[] {
  const starts = Array.from({ length: Math.floor((SPLIT - 1 - WINDOW) / 5) }, (_, i) => i * 5);
  const batches: TrainBatch[] = [];
  for (let k = 0; k + B <= starts.length; k += B) {
    const input = new Float32Array(WINDOW * B);
    const target = new Float32Array(WINDOW * B);
    for (let t = 0; t < WINDOW; t++) for (let b = 0; b < B; b++) [input[t * B + b], target[t * B + b]] = [x[starts[k + b] + t], x[starts[k + b] + t + 1]];
    batches.push({ input: { shape: [WINDOW, B, 1], data: input }, target: { shape: [WINDOW, B, 1], data: target } });
  }
  return batches;
}

export function setupForecast(page: PageContext): void {
  const x = series();
  const steps = Array.from({ length: LENGTH - SPLIT - 1 }, (_, i) => SPLIT + 1 + i);
  const chart = lineChart(byId('fc-chart'), { label: 'time step' }, { label: 'value' }, [{ label: 'truth' }, { label: 'prediction (one step ahead)' }]);
  chartLabels(chart, () => ({ x: t('fc.axisTime'), y: t('fc.axisValue'), series: [t('fc.seriesTruth'), t('fc.seriesPrediction')] }));
  setLines(chart, steps, [steps.map((t) => x[t]), steps.map(() => null)]);
  const button = byId<HTMLButtonElement>('fc-train');
  button.addEventListener(
    'click',
    () =>
      void busy(button, 'fc-error', async () => {
        const mode = byId<HTMLSelectElement>('fc-mode').value as 'GRU' | 'LSTM';
        const maxSteps = numberInput('fc-steps');
        const trainer = await openTrainer({
          model: { rnn: { mode, input_size: 1, hidden_size: 32 }, head: { out_features: 1 }, loss: 'mse' },
          optimizer: { name: 'adam', lr: 0.01 },
          backend: page.backend,
          init: { seed: 5 },
        });
        try {
          const started = performance.now();
          const report = await trainer.fit(windows(x, 8), {
            epochs: 10_000,
            maxSteps,
            readEvery: 10,
            onProgress: (p) => say(byId('fc-stats'), () => t('fc.progress', { step: p.step, max: maxSteps, loss: p.loss?.toFixed(4) ?? '…' })),
          });
          // The whole series at once, one row: the prediction at t is the model's guess of x[t + 1].
          const y = (await trainer.predict({ input: { shape: [LENGTH - 1, 1, 1], data: x.subarray(0, LENGTH - 1) } })).data;
          const predicted = steps.map((t) => y[t - 1]);
          const rms = (e: number[]) => Math.sqrt(e.reduce((a, v) => a + v * v, 0) / e.length);
          const heldOutError = rms(steps.map((t, i) => predicted[i] - x[t]));
          const naiveError = rms(steps.map((t) => x[t - 1] - x[t]));
          setLines(chart, steps, [steps.map((t) => x[t]), predicted]);
          const trainLoss = report.losses.at(-1)?.[1] ?? Number.NaN;
          window.__demo!.forecast = { trainLoss, heldOutError, naiveError };
          const seconds = ((performance.now() - started) / 1000).toFixed(1);
          say(byId('fc-stats'), () => t('fc.result', { steps: report.steps, seconds, error: heldOutError.toFixed(3), naive: naiveError.toFixed(3) }));
        } finally {
          await trainer.destroy();
        }
      }),
  );
}
