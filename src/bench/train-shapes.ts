/**
 * Training benchmark shapes: the three common recurrent training tasks, at the sizes of the issue
 * that introduced training (measured there against TensorFlow.js and PyTorch). Each is a trainable
 * model (src/train/config.ts) plus a batch shape; a step is forward, loss, backward and Adam.
 */
import { gateCount, resolveConfig } from '../config.js';
import type { ModelConfigInput } from '../train/config.js';

export interface TrainShape {
  readonly kind: 'train';
  readonly name: string;
  readonly about: string;
  readonly model: ModelConfigInput;
  readonly B: number;
  readonly T: number;
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
];

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

/**
 * Counted work of one training step (GFLOP): the forward's multiply-adds — 2·G·H·(I_l + H)·B·T per
 * layer and direction, the head's 2·rows·F·O — three times (the forward, then the backward's
 * gradients with respect to both the inputs and the weights, each as much again).
 */
export function trainStepGflop(shape: TrainShape): number {
  const rnn = shape.model.rnn;
  const G = gateCount(resolveConfig(rnn).mode);
  const H = rnn.hidden_size;
  const D = rnn.bidirectional ? 2 : 1;
  const Hout = rnn.proj_size || H;
  let flop = 0;
  for (let l = 0; l < (rnn.num_layers ?? 1); l++) {
    const I = l === 0 ? rnn.input_size : D * Hout;
    flop += D * 2 * G * H * (I + Hout) * shape.B * shape.T;
  }
  if (shape.model.head) {
    const rows = shape.model.head.on === 'h_n' ? shape.B : shape.B * shape.T;
    flop += 2 * rows * D * Hout * shape.model.head.out_features;
  }
  return (3 * flop) / 1e9;
}
