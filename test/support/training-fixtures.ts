/**
 * The PyTorch training fixtures (test/fixtures/training, made by test/fixtures/generate_training.py),
 * for Node and the browser alike: the caller supplies how to fetch a file's bytes (fixtures.ts).
 */
import type { LoadBytes } from './fixtures.js';
import { type Seq2SeqCase, seq2seqCases } from './seq2seq-fixtures.js';
import { readSafetensors } from '../../src/safetensors.js';
import type { IntTensor, Tensor } from '../../src/tensor.js';
import type { TrainBatch } from '../../src/train/batch.js';
import type { ModelConfigInput } from '../../src/train/config.js';
import type { OptimizerConfigInput } from '../../src/train/optim.js';

export interface TrainingCase {
  name: string;
  file: string;
  model: ModelConfigInput;
  T: number;
  B: number;
  has_h0: boolean;
  has_lengths: boolean;
  optimizer?: OptimizerConfigInput;
  steps?: number;
}

export interface TrainingFixture {
  meta: TrainingCase;
  /** The initial parameters by state_dict name. */
  params: Record<string, Tensor>;
  batch: TrainBatch;
  loss: number;
  grads: Record<string, Tensor>;
  gradH0?: Tensor;
  gradC0?: Tensor;
  losses?: Float64Array;
  gradNorms?: Float64Array;
  final?: Record<string, Tensor>;
}

const DIR = 'training/';

/** The training suite's two manifests: embedding → rnn → head models, and encoder–decoders. */
export interface TrainingManifests {
  readonly sequence: readonly TrainingCase[];
  readonly seq2seq: readonly Seq2SeqCase[];
}

export async function trainingManifests(load: LoadBytes): Promise<TrainingManifests> {
  return { sequence: await trainingCases(load), seq2seq: await seq2seqCases(load) };
}

export async function trainingCases(load: LoadBytes): Promise<TrainingCase[]> {
  return (JSON.parse(new TextDecoder().decode(await load(`${DIR}training-manifest.json`))) as { cases: TrainingCase[] }).cases;
}

export async function loadTrainingFixture(load: LoadBytes, meta: TrainingCase): Promise<TrainingFixture> {
  const file = readSafetensors(await load(DIR + meta.file));
  const t = file.tensors;
  const prefixed = (prefix: string) =>
    Object.fromEntries(
      Object.entries(t)
        .filter(([k]) => k.startsWith(prefix))
        .map(([k, v]) => [k.slice(prefix.length), v as Tensor]),
    );
  const batch: TrainBatch = { target: t.target as Tensor | IntTensor };
  if (t.input) batch.input = t.input as Tensor;
  if (t.tokens) batch.tokens = t.tokens as IntTensor;
  if (t.lengths) batch.lengths = t.lengths as IntTensor;
  if (t.h0) batch.h0 = t.h0 as Tensor;
  if (t.c0) batch.c0 = t.c0 as Tensor;
  const grads = prefixed('grad.');
  const { h0: gradH0, c0: gradC0, ...paramGrads } = grads;
  return {
    meta,
    params: prefixed('model.'),
    batch,
    loss: (t.loss as Tensor).data[0],
    grads: paramGrads,
    gradH0,
    gradC0,
    losses: t.losses ? Float64Array.from((t.losses as Tensor).data) : undefined,
    gradNorms: t.grad_norm ? Float64Array.from((t.grad_norm as Tensor).data) : undefined,
    final: t.losses ? prefixed('final.') : undefined,
  };
}
