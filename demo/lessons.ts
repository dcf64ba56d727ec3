/**
 * The training lessons' shared machinery (the cells, clipping and optimizers panels): one task — the
 * next character of the everyday sentences — and `trainLockstep`, which trains several configurations
 * of it at once, interleaved step by step on the same batches in the same order, so their curves are
 * comparable point for point and grow side by side on the chart. Each step reads its loss and gradient
 * norm back (`trainStep(…, { readLoss: true })`); a step the library reports as non-finite (NON_FINITE,
 * naming the step) ends that configuration's run there, and the others go on.
 *
 * Also the recurrent parameter count of a cell, as PyTorch's nn.RNN / nn.GRU / nn.LSTM hold them.
 * Nothing here touches the page, so test/demo-training-lessons.test.ts runs it in Node.
 */
import {
  type CreateTrainerOptions,
  type ModelConfigInput,
  type RnnMode,
  type Tensor,
  type TrainBatch,
  type Vocabulary,
  encode,
  gateCount,
  initialParameters,
  modelParameterSpecs,
  resolveModelConfig,
  textBatches,
  vocabularyOf,
} from '../src/index.js';
import { everydayCorpus } from './corpora/everyday.js';
import { type PanelTrainer, openTrainer } from './trainer-host.js';

/**
 * weight_ih (G·H × I), weight_hh (G·H × H), bias_ih and bias_hh (G·H each) per layer and direction,
 * G the gates (RNN 1, GRU 3, LSTM 4): what sum(p.numel() for p in nn.LSTM(I, H).parameters()) says.
 */
export function recurrentParameters(mode: RnnMode, inputSize: number, hidden: number, layers = 1, bidirectional = false): number {
  const G = gateCount(mode);
  const D = bidirectional ? 2 : 1;
  let total = 0;
  for (let layer = 0; layer < layers; layer++) {
    const I = layer === 0 ? inputSize : D * hidden;
    total += D * (G * hidden * I + G * hidden * hidden + 2 * G * hidden);
  }
  return total;
}

/** The lessons' task: windows of T characters of the everyday sentences, B streams, the next character the target. */
export interface CharTask {
  vocab: Vocabulary;
  batches: TrainBatch[];
}

export const LESSON_SENTENCES = 400;

export function charTask(T: number, B: number, sentences = LESSON_SENTENCES): CharTask {
  const text = everydayCorpus(sentences, 2026);
  const vocab = vocabularyOf(text);
  return { vocab, batches: textBatches(encode(vocab, text), T, B) };
}

/** A next-character model on `task`: an embedding of `embedding`, one recurrent layer of `hidden`, a head on every step. */
export function charModel(task: CharTask, mode: RnnMode, embedding: number, hidden: number): ModelConfigInput {
  const V = task.vocab.chars.length;
  return {
    embedding: { num_embeddings: V, embedding_dim: embedding },
    rnn: { mode, input_size: embedding, hidden_size: hidden },
    head: { out_features: V, on: 'output' },
    loss: 'cross_entropy',
  };
}

/** One configuration of a lockstep run: an id (for the page's state and captions) and the trainer's options. */
export interface LessonRun {
  id: string;
  options: CreateTrainerOptions;
}

/** What one configuration did: a point per step it took. */
export interface LessonCurve {
  id: string;
  steps: number[];
  losses: number[];
  gradNorms: number[];
  /** The median milliseconds of a step (loss read back), the first (pipelines compile) left out; NaN with fewer than two. */
  msPerStep: number;
  /** The step the library reported non-finite (its loss or gradient norm), and what it reported. */
  diverged?: { step: number; loss: number; gradNorm: number };
}

export interface LockstepOptions {
  backend: 'webgpu' | 'cpu';
  /** Called after each round of steps (every configuration's step k), with the curves so far. */
  onStep?: (step: number, curves: LessonCurve[]) => void | Promise<void>;
  signal?: AbortSignal;
  /** How trainers are made (the page's openTrainer by default). */
  open?: (options: CreateTrainerOptions) => Promise<Pick<PanelTrainer, 'trainStep' | 'destroy'>>;
}

/**
 * The lessons' backward kernels: one dispatch per time step. Their models are tiny, where the per-step
 * kernels run as fast as the persistent ones, and they compile in a fraction of the time on a software
 * adapter (SwiftShader: the cells lesson's first steps took 16.8 s in all against 25.5 s with 'auto',
 * the same losses to the last digit, each step 11–16 ms either way).
 */
export const LESSON_STRATEGY = 'per-step' as const;

const median = (xs: number[]) => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Trains each of `runs` for `steps` steps on `batches` (cycled; the same batch at the same step for
 * every run), interleaved: step 1 of each, then step 2 of each, … A run whose step the library reports
 * non-finite stops there (its `diverged`); any other error ends the whole lockstep. Every trainer is
 * destroyed at the end, whatever happened.
 */
export async function trainLockstep(runs: LessonRun[], batches: TrainBatch[], steps: number, options: LockstepOptions): Promise<LessonCurve[]> {
  const open = options.open ?? ((o: CreateTrainerOptions) => openTrainer(o));
  const trainers: Array<Pick<PanelTrainer, 'trainStep' | 'destroy'>> = [];
  const curves: LessonCurve[] = runs.map((r) => ({ id: r.id, steps: [], losses: [], gradNorms: [], msPerStep: Number.NaN }));
  const times: number[][] = runs.map(() => []);
  try {
    for (const run of runs) {
      if (options.signal?.aborted) return curves;
      trainers.push(await open({ strategy: LESSON_STRATEGY, ...run.options, backend: options.backend }));
    }
    for (let step = 1; step <= steps && !options.signal?.aborted; step++) {
      const batch = batches[(step - 1) % batches.length];
      for (let i = 0; i < runs.length; i++) {
        const curve = curves[i];
        if (curve.diverged) continue;
        const start = performance.now();
        try {
          const { loss, gradNorm } = (await trainers[i].trainStep(batch, { readLoss: true })) as { loss: number; gradNorm: number };
          if (step > 1) times[i].push(performance.now() - start);
          curve.steps.push(step);
          curve.losses.push(loss);
          curve.gradNorms.push(gradNorm);
        } catch (e) {
          const err = e as { code?: string; step?: number; loss?: number; gradNorm?: number };
          if (err.code !== 'NON_FINITE') throw e;
          curve.diverged = { step: err.step ?? step, loss: err.loss ?? Number.NaN, gradNorm: err.gradNorm ?? Number.NaN };
        }
        curve.msPerStep = median(times[i]);
      }
      await options.onStep?.(step, curves);
    }
    return curves;
  } finally {
    await Promise.allSettled(trainers.map((t) => t.destroy()));
  }
}

/** The mean of the last `n` losses of a curve (NaN when it has none): the "loss after N steps" the captions compare. */
export function finalLoss(curve: LessonCurve, n = 5): number {
  const tail = curve.losses.slice(-n);
  return tail.length ? tail.reduce((a, b) => a + b, 0) / tail.length : Number.NaN;
}

/** The first step whose loss is at or below `target` (undefined if none). */
export function stepReaching(curve: LessonCurve, target: number): number | undefined {
  const i = curve.losses.findIndex((l) => l <= target);
  return i < 0 ? undefined : curve.steps[i];
}

/** `curves`' points on one step axis (1 … the longest), null where a run had no point (after it diverged). */
export function aligned(curves: LessonCurve[], of: 'losses' | 'gradNorms'): { x: number[]; ys: Array<Array<number | null>> } {
  const last = Math.max(0, ...curves.map((c) => c.steps.at(-1) ?? 0));
  const x = Array.from({ length: last }, (_, i) => i + 1);
  const ys = curves.map((c) => {
    const y: Array<number | null> = x.map(() => null);
    c.steps.forEach((s, i) => {
      y[s - 1] = c[of][i];
    });
    return y;
  });
  return { x, ys };
}

/**
 * `model`'s initial weights (PyTorch's default init, seeded) with the recurrent matrix set to
 * `scale`·I: a ReLU RNN so started carries h_{t−1} forward multiplied by `scale` at each step (Le et al.'s
 * identity RNN at scale 1), so above 1 its state and its gradient grow like scale^T.
 */
export function identityRecurrentWeights(model: ModelConfigInput, scale: number, seed: number): Record<string, Tensor> {
  const config = resolveModelConfig(model);
  const init = initialParameters(config, { seed });
  const weights: Record<string, Tensor> = {};
  for (const spec of modelParameterSpecs(config)) {
    const data = Float32Array.from(init[spec.name]);
    if (spec.name === 'rnn.weight_hh_l0') {
      const H = spec.shape[1];
      data.fill(0);
      for (let i = 0; i < H; i++) data[i * H + i] = scale;
    }
    weights[spec.name] = { shape: spec.shape, data };
  }
  return weights;
}
