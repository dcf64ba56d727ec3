/**
 * Gradient flow: one long random sequence through a vanilla RNN, an LSTM and a GRU of the same size,
 * the loss on the last state only (a head on h_n); the library's gradientFlow gives ‖∂L/∂h_t‖ for every
 * step, plotted on a log scale. Toggles: the LSTM's forget-gate bias 1, orthogonal recurrent weights,
 * and clipping the gradient's global norm to 1 (which scales every step's gradient alike: it tames an
 * exploding gradient, it cannot bring back a vanished one).
 */
import type { RnnMode } from '../../src/index.js';
import { seededUniform } from '../../src/random.js';
import { type FlowModel, gradientFlowCaption } from '../captions.js';
import { COLORS, lineChart, placeholder, setLines } from '../charts.js';
import { chartLabels } from '../chart-labels.js';
import { language, say, t } from '../i18n.js';
import type { PageContext } from '../main.js';
import { openTrainer } from '../trainer-host.js';
import { busy, byId, numberInput } from '../ui.js';

const MODES: Array<{ mode: RnnMode; model: FlowModel; label: string }> = [
  { mode: 'RNN_TANH', model: 'RNN', label: 'vanilla RNN (tanh)' },
  { mode: 'LSTM', model: 'LSTM', label: 'LSTM' },
  { mode: 'GRU', model: 'GRU', label: 'GRU' },
];
const INPUT = 4;

export function setupGradientFlow(page: PageContext): void {
  const chart = lineChart(
    byId('gf-chart'),
    { label: 'step t' },
    { label: '‖∂L/∂h_t‖', log: true },
    MODES.map((m, i) => ({ label: m.label, color: COLORS[i] })),
  );
  chartLabels(chart, () => ({ x: t('gf.axisStep'), series: MODES.map((m) => (m.model === 'RNN' ? t('gf.seriesRnn') : m.label)) }));
  placeholder(chart, () => t('ux.pressRun'));
  const button = byId<HTMLButtonElement>('gf-run');
  const run = async () => {
    const T = numberInput('gf-length');
    const H = numberInput('gf-hidden');
    const forgetBias = byId<HTMLInputElement>('gf-forget').checked;
    const orthogonal = byId<HTMLInputElement>('gf-orthogonal').checked;
    const clip = byId<HTMLInputElement>('gf-clip').checked;
    const next = seededUniform(7);
    const input = { shape: [T, 1, INPUT], data: Float32Array.from({ length: T * INPUT }, () => 2 * next() - 1) };
    const batch = { input, target: { shape: [1, 1], data: Float32Array.of(1) } };
    const flows: Record<string, number[]> = {};
    const clipFactors = {} as Record<FlowModel, number>;
    for (const { mode, model, label } of MODES) {
      const trainer = await openTrainer({
        model: { rnn: { mode, input_size: INPUT, hidden_size: H }, head: { out_features: 1, on: 'h_n' }, loss: 'mse' },
        init: { seed: 3, orthogonal, ...(mode === 'LSTM' && forgetBias ? { forgetBias: 1 } : {}) },
        backend: page.backend,
      });
      try {
        const { flow } = await trainer.gradientFlow(batch);
        let scale = 1;
        if (clip) scale = Math.min(1, 1 / (await trainer.gradients(batch)).gradNorm); // clip_grad_norm_(…, 1)'s factor
        clipFactors[model] = scale;
        flows[label] = flow[0].map((v) => v * scale);
      } finally {
        await trainer.destroy();
      }
    }
    const steps = Array.from({ length: T }, (_, t) => t + 1);
    setLines(
      chart,
      steps,
      MODES.map((m) => flows[m.label]),
      true,
    );
    window.__demo!.gradientFlow = flows;
    const measured = {
      flows: Object.fromEntries(MODES.map((m) => [m.model, flows[m.label]])) as Record<FlowModel, number[]>,
      forgetBias,
      orthogonal,
      clipFactors: clip ? clipFactors : undefined,
    };
    say(byId('gf-caption'), () => t('gf.captionRun', { caption: gradientFlowCaption(measured, language()) }));
  };
  button.addEventListener('click', () => void busy(button, 'gf-error', run));
}
