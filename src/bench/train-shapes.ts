/**
 * Training benchmark shapes: the three common recurrent training tasks, at the sizes of the issue
 * that introduced training (measured there against TensorFlow.js and PyTorch). Each is a trainable
 * model (src/train/config.ts) plus a batch shape; a step is forward, loss, backward and Adam.
 */
import { gateCount, resolveConfig } from '../config.js';
import type { ModelConfigInput, TrainableConfigInput } from '../train/config.js';
import { type Seq2SeqConfigInput, isSeq2SeqInput, resolveSeq2SeqConfig } from '../train/seq2seq-config.js';

export interface TrainShape {
  readonly kind: 'train';
  readonly name: string;
  readonly about: string;
  readonly model: TrainableConfigInput;
  readonly B: number;
  readonly T: number;
  /** An encoder–decoder's source length. */
  readonly S?: number;
}

export const TRAIN_SHAPES: readonly TrainShape[] = [
  {
    kind: 'train',
    name: 'train-char-lm',
    about: 'character language model: Embedding 65→32, 2×LSTM 128, head 65 on every step',
    model: {
      embedding: { num_embeddings: 65, embedding_dim: 32 },
      rnn: { mode: 'LSTM', input_size: 32, hidden_size: 128, num_layers: 2 },
      head: { out_features: 65 },
      loss: 'cross_entropy',
    },
    B: 8,
    T: 50,
  },
  {
    kind: 'train',
    name: 'train-classifier',
    about: 'sequence classifier: GRU 64 on 16 features, head on h_n, 4 classes',
    model: { rnn: { mode: 'GRU', input_size: 16, hidden_size: 64 }, head: { out_features: 4, on: 'h_n' }, loss: 'cross_entropy' },
    B: 32,
    T: 64,
  },
  {
    kind: 'train',
    name: 'train-long',
    about: 'long-sequence regression: LSTM 64 on 8 features, one output per step, MSE',
    model: { rnn: { mode: 'LSTM', input_size: 8, hidden_size: 64 }, head: { out_features: 1 }, loss: 'mse' },
    B: 1,
    T: 1000,
  },
  {
    kind: 'train',
    name: 'train-date-attention',
    about: "TensorFlow.js's date-conversion-attention model: Embedding 64, LSTM 64 encoder and decoder, dot attention, Dense 64 tanh, Dense 13",
    model: {
      source_embedding: { num_embeddings: 35, embedding_dim: 64 },
      target_embedding: { num_embeddings: 13, embedding_dim: 64 },
      encoder: { mode: 'LSTM', input_size: 64, hidden_size: 64 },
      decoder: { mode: 'LSTM', input_size: 64, hidden_size: 64 },
      bridge: 'copy',
      attention: { score: 'dot', placement: 'after', combine_size: 64 },
    },
    B: 128,
    T: 10,
    S: 12,
  },
  {
    kind: 'train',
    name: 'train-bahdanau',
    about:
      "attention inside the decoder, as PyTorch's translation tutorial: Embedding 256 of 1,000 words each side, GRU 256 encoder, GRU 256 decoder reading [e; c], additive (concat) attention 256, head 1,000",
    model: {
      source_embedding: { num_embeddings: 1000, embedding_dim: 256 },
      target_embedding: { num_embeddings: 1000, embedding_dim: 256 },
      encoder: { mode: 'GRU', input_size: 256, hidden_size: 256 },
      decoder: { mode: 'GRU', input_size: 512, hidden_size: 256 },
      bridge: 'copy',
      attention: { score: 'concat', placement: 'before', attention_size: 256 },
    },
    B: 64,
    T: 20,
    S: 20,
  },
];

/**
 * The big training step (`--big`, for real GPUs): a word-level language model at H 512, B 64, T 64 —
 * Embedding 1,000 → 512, LSTM 512, head 1,000 on every step.
 */
export const BIG_TRAIN_SHAPE: TrainShape = {
  kind: 'train',
  name: 'train-big-lstm-512',
  about: 'real-GPU training step: Embedding 1,000→512, LSTM 512, head 1,000 on every step',
  model: {
    embedding: { num_embeddings: 1000, embedding_dim: 512 },
    rnn: { mode: 'LSTM', input_size: 512, hidden_size: 512 },
    head: { out_features: 1000 },
    loss: 'cross_entropy',
  },
  B: 64,
  T: 64,
};

/** A training shape that runs end to end in seconds (CI). */
export const TINY_TRAIN_SHAPE: TrainShape = {
  kind: 'train',
  name: 'train-tiny',
  about: 'CI smoke shape',
  model: {
    embedding: { num_embeddings: 7, embedding_dim: 4 },
    rnn: { mode: 'LSTM', input_size: 4, hidden_size: 8 },
    head: { out_features: 7 },
    loss: 'cross_entropy',
  },
  B: 2,
  T: 5,
};

/** An encoder–decoder that runs end to end in seconds (CI): every peer's seq2seq path. */
export const TINY_SEQ2SEQ_TRAIN_SHAPE: TrainShape = {
  kind: 'train',
  name: 'train-tiny-seq2seq',
  about: 'CI smoke shape: the date model, small',
  model: {
    source_embedding: { num_embeddings: 9, embedding_dim: 4 },
    target_embedding: { num_embeddings: 7, embedding_dim: 4 },
    encoder: { mode: 'LSTM', input_size: 4, hidden_size: 6 },
    decoder: { mode: 'LSTM', input_size: 4, hidden_size: 6 },
    bridge: 'copy',
    attention: { score: 'dot', placement: 'after', combine_size: 5 },
  },
  B: 3,
  T: 4,
  S: 5,
};

/**
 * Counted work of one training step (GFLOP): the forward's multiply-adds — 2·G·H·(I_l + H)·B·T per
 * layer and direction, the head's 2·rows·F·O — three times (the forward, then the backward's
 * gradients with respect to both the inputs and the weights, each as much again).
 */
export function trainStepGflop(shape: TrainShape): number {
  if (isSeq2SeqInput(shape.model)) return seq2seqStepGflop(shape, shape.model as Seq2SeqConfigInput);
  const model = shape.model as ModelConfigInput;
  const rnn = model.rnn;
  const G = gateCount(resolveConfig(rnn).mode);
  const H = rnn.hidden_size;
  const D = rnn.bidirectional ? 2 : 1;
  const Hout = rnn.proj_size || H;
  let flop = 0;
  for (let l = 0; l < (rnn.num_layers ?? 1); l++) {
    const I = l === 0 ? rnn.input_size : D * Hout;
    flop += D * 2 * G * H * (I + Hout) * shape.B * shape.T;
  }
  if (model.head) {
    const rows = model.head.on === 'h_n' ? shape.B : shape.B * shape.T;
    flop += 2 * rows * D * Hout * model.head.out_features;
  }
  return (3 * flop) / 1e9;
}

/**
 * An encoder–decoder's step, counted the same way: the encoder's S steps and the decoder's T
 * (single-layer and multi-layer alike, 2·G·H·(I + H)·B per step, layer and direction; with attention
 * before the decoder its I includes the context), the attention's scores and context (2·2·T·S·B·H_e,
 * plus the score's projections), the combine layer (2·T·B·(H_e + H_d)·C, placement "after" only) and the
 * head (2·T·B·C·V, C = H_d without a combine layer), three times.
 */
function seq2seqStepGflop(shape: TrainShape, input: Seq2SeqConfigInput): number {
  const m = resolveSeq2SeqConfig(input);
  const { B, T } = shape;
  const S = shape.S ?? T;
  const stack = (rnn: typeof m.encoder, steps: number) => {
    const D = rnn.bidirectional ? 2 : 1;
    const Hout = rnn.proj_size || rnn.hidden_size;
    let f = 0;
    for (let l = 0; l < rnn.num_layers; l++) f += D * 2 * gateCount(rnn.mode) * rnn.hidden_size * ((l === 0 ? rnn.input_size : D * Hout) + Hout) * B * steps;
    return f;
  };
  const He = (m.encoder.bidirectional ? 2 : 1) * (m.encoder.proj_size || m.encoder.hidden_size);
  const Hd = m.decoder.proj_size || m.decoder.hidden_size;
  const after = m.attention.placement === 'after';
  const C = after ? (m.attention.combine_size ?? Hd) : Hd;
  const A = m.attention.attention_size ?? 0;
  const V = m.target_embedding.num_embeddings;
  let flop = stack(m.encoder, S) + stack(m.decoder, T) + 2 * 2 * T * S * B * He;
  if (m.attention.score === 'general') flop += 2 * S * B * He * Hd;
  if (m.attention.score === 'concat') flop += 2 * (T * B * Hd + S * B * He) * A + 2 * T * S * B * A;
  if (after) flop += 2 * T * B * (He + Hd) * C;
  flop += 2 * T * B * C * V;
  return (3 * flop) / 1e9;
}
