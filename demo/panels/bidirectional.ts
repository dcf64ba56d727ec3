/**
 * Bidirectional networks: restoring a hidden character in the middle of an everyday sentence
 * (demo/lesson-tasks.ts: windows of WINDOW characters, one replaced by □; the target is the hidden
 * character at its position and −100, ignored, everywhere else). Embedding → LSTM → a head on every
 * step, trained twice with the library's `fit` on the same batches: reading left to right only, and
 * bidirectional (the head sees both directions' h_t). Every EVAL_EVERY steps both are asked to fill the
 * gaps of the same held-out windows (trainer.predict, the most likely character at the mask), and the
 * share they restore is plotted, with the commonest hidden character's share as the floor.
 * The chart and Run / Stop are demo/run-panel.ts's, shared with the overfitting panel.
 */
import { type ModelConfigInput, decode, modelParameterSpecs, resolveModelConfig } from '../../src/index.js';
import { COLORS, setLines } from '../charts.js';
import { everydayCorpus } from '../corpora/everyday.js';
import { language, say, t } from '../i18n.js';
import { type BidirectionalResult, bidirectionalCaption } from '../lesson-captions.js';
import { MASK_CHAR, type MaskedTask, maskedAccuracy, maskedTask } from '../lesson-tasks.js';
import type { PageContext } from '../main.js';
import { runPanelChart, wireRunStop } from '../run-panel.js';
import { openTrainer } from '../trainer-host.js';
import { byId, numberInput } from '../ui.js';

const WINDOW = 12;
const BATCH = 32;
const BATCHES = 60;
const HELD_OUT = 256;
const EVAL_EVERY = 20;
const EXAMPLES = 3;

/** The share of held-out windows the commonest training answer would restore. */
function baseline(task: MaskedTask): number {
  const counts = new Map<number, number>();
  for (const b of task.train) for (const id of b.target.data) if (id >= 0) counts.set(Number(id), (counts.get(Number(id)) ?? 0) + 1);
  const commonest = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
  return task.heldOutAnswers.filter((a) => a.id === commonest).length / task.heldOutAnswers.length;
}

/** Each held-out row's guess at its mask. */
function guesses(task: MaskedTask, logits: ArrayLike<number>): number[] {
  const rows = task.heldOutAnswers.length;
  const V = task.vocab.chars.length;
  return task.heldOutAnswers.map(({ position }, b) => {
    const at = (position * rows + b) * V;
    let best = 0;
    for (let v = 1; v < V; v++) if (logits[at + v] > logits[at + best]) best = v;
    return best;
  });
}

export function setupBidirectional(page: PageContext): void {
  const chart = runPanelChart(
    'bi',
    { x: 'bi.axisStep', y: 'bi.axisAccuracy' },
    [
      { label: () => t('bi.seriesUni'), color: COLORS[0], points: true },
      { label: () => t('bi.seriesBi'), color: COLORS[1], points: true },
      { label: () => t('bi.seriesBaseline'), color: '#868e96', dash: [6, 4] },
    ],
    'bi.pressRun',
  );
  const stats = byId('bi-stats');
  const caption = byId('bi-caption');
  const examples = byId('bi-examples');

  wireRunStop('bi', async (signal) => {
    const hidden = numberInput('bi-hidden');
    const maxSteps = numberInput('bi-steps');
    const task = maskedTask(everydayCorpus(), WINDOW, BATCH, BATCHES, HELD_OUT, 1);
    const V = task.vocab.chars.length;
    const floor = baseline(task);
    const steps: number[] = [];
    const accuracy: Array<Array<number | null>> = [[], []];
    const redraw = () => setLines(chart, steps, [...accuracy, steps.map(() => floor)]);
    delete window.__demo!.bidirectional;
    say(caption);
    say(examples);
    redraw();
    const results: Array<{ accuracy: number; params: number; guesses: number[] }> = [];
    for (const [k, bidirectional] of [false, true].entries()) {
      const model = resolveModelConfig({
        embedding: { num_embeddings: V + 1, embedding_dim: 16 },
        rnn: { mode: 'LSTM', input_size: 16, hidden_size: hidden, bidirectional },
        head: { out_features: V },
        loss: 'cross_entropy',
      } satisfies ModelConfigInput);
      const params = modelParameterSpecs(model).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
      const trainer = await openTrainer({ model, backend: page.backend, init: { seed: 1 }, seed: 1, optimizer: { name: 'adam', lr: 0.02 } });
      try {
        let last = { accuracy: 0, guesses: [] as number[] };
        const measure = async (step: number) => {
          const logits = (await trainer.predict({ tokens: task.heldOut.tokens! })).data;
          last = { accuracy: maskedAccuracy(task, logits), guesses: guesses(task, logits) };
          let i = steps.indexOf(step);
          if (i < 0) {
            steps.push(step);
            accuracy.forEach((a) => a.push(null));
            i = steps.length - 1;
          }
          accuracy[k][i] = last.accuracy;
          redraw();
          const name = k === 0 ? 'bi.runUni' : 'bi.runBi';
          const values = { step, max: maxSteps, accuracy: (100 * last.accuracy).toFixed(0) };
          say(stats, () => t('bi.progress', { ...values, name: t(name) }));
        };
        const report = await trainer.fit(task.train, {
          epochs: 100_000,
          maxSteps,
          readEvery: EVAL_EVERY,
          signal,
          onProgress: async (p) => {
            if (p.step % EVAL_EVERY === 0 || p.step === maxSteps) await measure(p.step);
          },
        });
        results.push({ ...last, params });
        if (report.stopped === 'aborted') return;
      } finally {
        await trainer.destroy();
      }
    }
    const [uni, bi] = results;
    const result: BidirectionalResult = {
      rows: HELD_OUT,
      steps: steps.at(-1) ?? 0,
      uni: { accuracy: uni.accuracy, params: uni.params },
      bi: { accuracy: bi.accuracy, params: bi.params },
      baseline: floor,
    };
    window.__demo!.bidirectional = { ...result, steps: [...steps], accuracy: accuracy.map((a) => [...a]), finalStep: result.steps };
    const rows = task.heldOutAnswers.slice(0, EXAMPLES).map(({ position, id }, b) => {
      const chars = Array.from({ length: WINDOW }, (_, tt) => Number(task.heldOut.tokens!.data[tt * HELD_OUT + b]));
      const shown = chars.map((c) => (c === task.mask ? MASK_CHAR : decode(task.vocab, [c]))).join('');
      return { shown, answer: decode(task.vocab, [id]), uni: decode(task.vocab, [uni.guesses[b]]), bi: decode(task.vocab, [bi.guesses[b]]), position };
    });
    const q = (text: string) => t('common.quoted', { text });
    say(examples, () => rows.map((r) => t('bi.example', { shown: r.shown, answer: q(r.answer), uni: q(r.uni), bi: q(r.bi) })).join('\n'));
    say(stats, () => t('bi.done', { V, windows: BATCH * BATCHES }));
    say(caption, () => bidirectionalCaption(result, language()));
  });
}
