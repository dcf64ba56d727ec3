/**
 * Benchmark shapes: small enough for a software adapter, real enough to matter. `--big` adds sizes
 * meant for real GPUs. Every shape is a PyTorch-style configuration plus a batch and a length.
 */
import { type RnnConfigInput, gateCount, resolveConfig } from '../config.js';
import { BIG_TRAIN_SHAPE, TINY_SEQ2SEQ_TRAIN_SHAPE, TINY_TRAIN_SHAPE, TRAIN_SHAPES, type TrainShape } from './train-shapes.js';

export interface BenchShape {
  readonly kind?: 'forward';
  /** Stable name, used by --shapes and in the JSON rows. */
  readonly name: string;
  /** What the shape stands for. */
  readonly about: string;
  readonly config: RnnConfigInput & { mode: 'LSTM' | 'GRU' };
  readonly B: number;
  readonly T: number;
}

export const SHAPES: readonly BenchShape[] = [
  { name: 'voice-lstm', about: 'streaming voice-activity size', config: { mode: 'LSTM', input_size: 64, hidden_size: 128 }, B: 1, T: 100 },
  { name: 'voice-gru', about: 'noise-suppression size', config: { mode: 'GRU', input_size: 42, hidden_size: 96 }, B: 1, T: 100 },
  { name: 'char-rnn', about: '2-layer character model', config: { mode: 'LSTM', input_size: 64, hidden_size: 128, num_layers: 2 }, B: 8, T: 50 },
  { name: 'bigru', about: 'bidirectional tagger', config: { mode: 'GRU', input_size: 32, hidden_size: 64, bidirectional: true }, B: 4, T: 64 },
  { name: 'long-lstm', about: 'long sequence', config: { mode: 'LSTM', input_size: 32, hidden_size: 64 }, B: 1, T: 1000 },
  { name: 'throughput', about: 'batched throughput', config: { mode: 'LSTM', input_size: 256, hidden_size: 256 }, B: 32, T: 32 },
];

/** Larger shapes for real GPUs (`--big`): three forwards and a training step (train-shapes.ts). */
export const BIG_SHAPES: readonly (BenchShape | TrainShape)[] = [
  { name: 'big-lstm-512', about: 'real-GPU throughput', config: { mode: 'LSTM', input_size: 512, hidden_size: 512 }, B: 64, T: 100 },
  { name: 'big-lstm-1024', about: 'real-GPU throughput', config: { mode: 'LSTM', input_size: 1024, hidden_size: 1024 }, B: 64, T: 100 },
  { name: 'big-gru-1024', about: 'real-GPU throughput', config: { mode: 'GRU', input_size: 1024, hidden_size: 1024 }, B: 64, T: 100 },
  BIG_TRAIN_SHAPE,
];

/** A tiny shape that runs end to end in seconds (CI). */
export const TINY_SHAPE: BenchShape = {
  name: 'tiny',
  about: 'CI smoke shape',
  config: { mode: 'LSTM', input_size: 4, hidden_size: 8 },
  B: 2,
  T: 5,
};

/** Every shape by name, the training shapes (train-shapes.ts) included. */
export const ALL_SHAPES: readonly (BenchShape | TrainShape)[] = [
  ...SHAPES,
  ...BIG_SHAPES,
  TINY_SHAPE,
  ...TRAIN_SHAPES,
  TINY_TRAIN_SHAPE,
  TINY_SEQ2SEQ_TRAIN_SHAPE,
];

/** Counted work of one forward: 2·G·H·(I_l + H)·B·T summed over layers and directions (GFLOP). */
export function countedGflop(shape: BenchShape): number {
  const G = gateCount(resolveConfig(shape.config).mode);
  const H = shape.config.hidden_size;
  const D = shape.config.bidirectional ? 2 : 1;
  let flop = 0;
  for (let l = 0; l < (shape.config.num_layers ?? 1); l++) {
    const I = l === 0 ? shape.config.input_size : D * H;
    flop += D * 2 * G * H * (I + H) * shape.B * shape.T;
  }
  return flop / 1e9;
}
