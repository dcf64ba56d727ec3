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
import { progressString, readProgress } from '../bench-progress.js';
import { speedSentence } from '../captions.js';
import { barChart } from '../charts.js';
import { chartLabels } from '../chart-labels.js';
import { language, onLanguageChange, say, t } from '../i18n.js';
import type { PageContext } from '../main.js';
import { busy, byId } from '../ui.js';

const FORWARD = ['voice-lstm', 'char-rnn', 'long-lstm'];
const TRAINING = ['train-char-lm', 'train-classifier'];
const NAMES: Partial<Record<SystemName, string>> = {
  'webgpu-rnn': 'webgpu-rnn',
  'cpu-reference': 'sp.cpuReference', // a key: the name in the page's language
  'tfjs-webgpu': 'TensorFlow.js WebGPU',
};

const systemName = (s: SystemName) => (s === 'cpu-reference' ? t('sp.cpuReference') : (NAMES[s] ?? s));
/** A shape as the chart and the progress line name it: a training shape by its task and "step". */
const shapeLabel = (name: string) => (TRAIN_SHAPES.some((s) => s.name === name) ? t('sp.shapeStep', { name: name.replace('train-', '') }) : name);

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
          name: shapeLabel(s.name),
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
    say(byId('sp-stats'), () => t('sp.needsGpu'));
    return;
  }
  /** The last measurement's category labels, written again in another language. */
  let relabel: (() => void) | undefined;
  onLanguageChange(() => relabel?.());
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
          // The benchmark's progress lines, worded again in the page's language (and again on a switch).
          log: (line) => {
            const progress = readProgress(
              line,
              shapes.map((s) => s.name),
              systems,
            );
            if (progress) say(stats, () => t(...progressString(progress, shapeLabel, (s) => systemName(s as SystemName))));
          },
        });
        byId('sp-chart').replaceChildren();
        const made = barChart(byId('sp-chart'), t('sp.axisMs'), systems.map(systemName), true);
        chartLabels(made.plot, () => ({ y: t('sp.axisMs'), series: systems.map(systemName) }));
        const values = systems.map((sys) => shapes.map((s) => report.rows.find((r) => r.shape === s.name && r.system === sys)?.median_ms ?? null));
        relabel = () =>
          made.set(
            shapes.map((s) => shapeLabel(s.name)),
            values,
          );
        relabel();
        window.__demo!.speed = report.rows.map((r) => ({ shape: r.shape, system: r.system, ms: r.median_ms }));
        const failed = report.rows.filter((r) => r.error);
        say(stats, () =>
          t('sp.measured', {
            adapter: report.adapter,
            n: report.rows.length - failed.length,
            failed: failed.length
              ? t('sp.unavailable', {
                  list: failed.map((r) => t('sp.unavailableItem', { system: r.system, shape: r.shape, error: String(r.error) })).join(t('sp.capSep')),
                })
              : '',
          }),
        );
        const ours = (shape: string) => report.rows.find((r) => r.shape === shape && r.system === 'webgpu-rnn')?.median_ms;
        say(byId('sp-caption'), () =>
          t('sp.captionRun', {
            adapter: report.adapter,
            sentences: shapes
              .map((s) => {
                const cpu = report.rows.find((r) => r.shape === s.name && r.system === 'cpu-reference')?.median_ms;
                const mine = ours(s.name);
                return mine && cpu ? speedSentence(s.name, mine, cpu, language()) : '';
              })
              .filter(Boolean)
              .join(t('sp.capSep')),
          }),
        );
      }),
  );
}
