/**
 * Speed: the benchmark (src/bench/run.ts, the same code as `npm run bench`) on this browser's adapter,
 * a few of its shapes: forward sequences and training steps, webgpu-rnn against the float64 CPU
 * reference, and TensorFlow.js's WebGPU backend when asked (loaded only then). Each system is checked
 * against the reference before it is timed; the chart shows medians on a log scale.
 */
import { runBench } from '../../src/bench/run.js';
import { SHAPES } from '../../src/bench/shapes.js';
import type { SystemName } from '../../src/bench/system.js';
import { TRAIN_SHAPES } from '../../src/bench/train-shapes.js';
import { speedSentence } from '../captions.js';
import { barChart } from '../charts.js';
import { onLanguageChange, t } from '../i18n.js';
import type { PageContext } from '../main.js';
import { busy, byId } from '../ui.js';

const FORWARD = ['voice-lstm', 'char-rnn', 'long-lstm'];
const TRAINING = ['train-char-lm', 'train-classifier'];
const NAMES: Partial<Record<SystemName, string>> = {
  'webgpu-rnn': 'webgpu-rnn',
  'cpu-reference': 'CPU reference (float64)',
  'tfjs-webgpu': 'TensorFlow.js WebGPU',
};

/** Each measured shape's sizes, one line each: the cell, I, H, layers, direction, B and T. */
function listShapes(): void {
  const shapes = [...SHAPES.filter((s) => FORWARD.includes(s.name)), ...TRAIN_SHAPES.filter((s) => TRAINING.includes(s.name))];
  const list = byId('sp-shape-list');
  onLanguageChange(() =>
    list.replaceChildren(
      ...shapes.map((s) => {
        const rnn = s.kind === 'train' ? ('rnn' in s.model ? s.model.rnn : undefined) : s.config;
        const item = document.createElement('li');
        item.textContent = t('ux.speedShape', {
          name: s.kind === 'train' ? `${s.name.replace('train-', '')} step` : s.name,
          cell: rnn?.mode ?? '?',
          I: rnn?.input_size ?? '?',
          H: rnn?.hidden_size ?? '?',
          layers: rnn?.num_layers ?? 1,
          bidirectional: rnn?.bidirectional ? t('ux.speedBidirectional') : '',
          B: s.B,
          T: s.T,
        });
        return item;
      }),
    ),
  );
}

export function setupSpeed(page: PageContext): void {
  listShapes();
  const button = byId<HTMLButtonElement>('sp-run');
  if (page.backend !== 'webgpu') {
    button.disabled = true;
    byId('sp-chart').replaceChildren(); // no "press Measure" where it cannot be pressed
    byId('sp-stats').textContent = 'Needs WebGPU: without it there is only the CPU reference to time.';
    return;
  }
  let chart: ReturnType<typeof barChart> | undefined;
  button.addEventListener(
    'click',
    () =>
      void busy(button, 'sp-error', async () => {
        const systems: SystemName[] = ['webgpu-rnn', 'cpu-reference', ...(byId<HTMLInputElement>('sp-tfjs').checked ? ['tfjs-webgpu' as const] : [])];
        const shapes = [...SHAPES.filter((s) => FORWARD.includes(s.name)), ...TRAIN_SHAPES.filter((s) => TRAINING.includes(s.name))];
        const stats = byId('sp-stats');
        const report = await runBench({
          shapes,
          systems,
          runs: 3,
          warmup: 1,
          ceilings: false,
          runtime: 'this browser',
          log: (line) =>
            (stats.textContent = line
              .split(/\s{2,}/)
              .slice(0, 3)
              .join(' · ')),
        });
        byId('sp-chart').replaceChildren();
        chart = barChart(
          byId('sp-chart'),
          'milliseconds (log)',
          systems.map((s) => NAMES[s] ?? s),
          true,
        );
        const categories = shapes.map((s) => (s.kind === 'train' ? `${s.name.replace('train-', '')} step` : s.name));
        chart.set(
          categories,
          systems.map((sys) => shapes.map((s) => report.rows.find((r) => r.shape === s.name && r.system === sys)?.median_ms ?? null)),
        );
        window.__demo!.speed = report.rows.map((r) => ({ shape: r.shape, system: r.system, ms: r.median_ms }));
        const failed = report.rows.filter((r) => r.error);
        stats.textContent = `${report.adapter}: ${report.rows.length - failed.length} measurements${failed.length ? `; unavailable: ${failed.map((r) => `${r.system} on ${r.shape} (${r.error})`).join('; ')}` : ''}`;
        const ours = (shape: string) => report.rows.find((r) => r.shape === shape && r.system === 'webgpu-rnn')?.median_ms;
        byId('sp-caption').textContent =
          `Median milliseconds on ${report.adapter} (log scale; lower is faster): a forward over a whole sequence, or one training step ("… step"). ${shapes
            .map((s) => {
              const cpu = report.rows.find((r) => r.shape === s.name && r.system === 'cpu-reference')?.median_ms;
              const mine = ours(s.name);
              return mine && cpu ? speedSentence(s.name, mine, cpu) : '';
            })
            .filter(Boolean)
            .join('; ')}.`;
      }),
  );
}
