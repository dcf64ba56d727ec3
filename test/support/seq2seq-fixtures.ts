/**
 * The PyTorch fixtures of the encoder–decoder (test/fixtures/seq2seq, made by
 * test/fixtures/generate_seq2seq.py), for Node and the browser alike (fixtures.ts's LoadBytes).
 */
import { readSafetensors } from '../../src/safetensors.js';
import type { IntTensor, Tensor } from '../../src/tensor.js';
import type { TrainBatch } from '../../src/train/batch.js';
import type { Seq2SeqConfigInput } from '../../src/train/seq2seq-config.js';
import type { LoadBytes } from './fixtures.js';

export interface Seq2SeqCase {
  name: string;
  file: string;
  model: Seq2SeqConfigInput;
  S: number;
  T: number;
  B: number;
  has_lengths: boolean;
  optimizer?: { name: 'adam'; lr: number };
  steps?: number;
}

export interface Seq2SeqFixture {
  meta: Seq2SeqCase;
  params: Record<string, Tensor>;
  batch: TrainBatch;
  loss: number;
  grads: Record<string, Tensor>;
  /** The attention weights α (T, B, S). */
  alpha: Tensor;
  losses?: Float64Array;
  final?: Record<string, Tensor>;
}

const DIR = 'seq2seq/';

export async function seq2seqCases(load: LoadBytes): Promise<Seq2SeqCase[]> {
  return (JSON.parse(new TextDecoder().decode(await load(`${DIR}seq2seq-manifest.json`))) as { cases: Seq2SeqCase[] }).cases;
}

export async function loadSeq2SeqFixture(load: LoadBytes, meta: Seq2SeqCase): Promise<Seq2SeqFixture> {
  const t = readSafetensors(await load(DIR + meta.file)).tensors;
  const prefixed = (prefix: string) =>
    Object.fromEntries(Object.entries(t).flatMap(([k, v]) => (k.startsWith(prefix) ? [[k.slice(prefix.length), v as Tensor]] : [])));
  const batch: TrainBatch = { source: t.source as IntTensor, target_in: t.target_in as IntTensor, target: t.target as IntTensor };
  if (t.source_lengths) batch.source_lengths = t.source_lengths as IntTensor;
  return {
    meta,
    params: prefixed('model.'),
    batch,
    loss: (t.loss as Tensor).data[0],
    grads: prefixed('grad.'),
    alpha: t.alpha as Tensor,
    losses: t.losses ? Float64Array.from((t.losses as Tensor).data) : undefined,
    final: t.losses ? prefixed('final.') : undefined,
  };
}
