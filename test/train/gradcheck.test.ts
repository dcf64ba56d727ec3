// The reference backward pass against finite differences, on tiny models of every mode and option.
import { describe, expect, it } from 'vitest';
import { prepareBatch } from '../../src/train/batch.js';
import { type ModelConfigInput, resolveModelConfig } from '../../src/train/config.js';
import { gradcheck } from '../../src/train/gradcheck.js';
import { modelParameterSpecs } from '../../src/train/model.js';
import { seededUniform } from '../../src/random.js';

function randomParams(config: ReturnType<typeof resolveModelConfig>, seed: number) {
  const next = seededUniform(seed);
  return Object.fromEntries(
    modelParameterSpecs(config).map((s) => [s.name, Float64Array.from({ length: s.shape.reduce((a, b) => a * b, 1) }, () => (2 * next() - 1) * 0.6)]),
  );
}

const CASES: Array<[string, ModelConfigInput, { T: number; B: number; h0?: boolean; lengths?: number[] }]> = [
  ['LSTM, mse on every step', { rnn: { mode: 'LSTM', input_size: 3, hidden_size: 4 }, loss: 'mse' }, { T: 4, B: 2, h0: true }],
  [
    'LSTM proj, 2 layers, bidirectional, lengths, head on output, cross_entropy',
    {
      rnn: { mode: 'LSTM', input_size: 2, hidden_size: 4, proj_size: 2, num_layers: 2, bidirectional: true },
      head: { out_features: 3 },
      loss: 'cross_entropy',
    },
    { T: 4, B: 3, h0: true, lengths: [4, 2, 3] },
  ],
  [
    'GRU, embedding, head on h_n, cross_entropy',
    {
      embedding: { num_embeddings: 5, embedding_dim: 3 },
      rnn: { mode: 'GRU', input_size: 3, hidden_size: 4, bidirectional: true },
      head: { out_features: 3, on: 'h_n' },
      loss: 'cross_entropy',
    },
    { T: 5, B: 2, lengths: [5, 3] },
  ],
  [
    'GRU 2 layers batch_first, no bias, mse head',
    { rnn: { mode: 'GRU', input_size: 2, hidden_size: 3, num_layers: 2, batch_first: true, bias: false }, head: { out_features: 2 }, loss: 'mse' },
    { T: 3, B: 2, h0: true },
  ],
  [
    'RNN_TANH bidirectional lengths, mse',
    { rnn: { mode: 'RNN_TANH', input_size: 2, hidden_size: 3, bidirectional: true }, loss: 'mse' },
    { T: 5, B: 3, lengths: [2, 5, 4], h0: true },
  ],
  [
    'RNN_RELU 2 layers, head on h_n, mse',
    { rnn: { mode: 'RNN_RELU', input_size: 3, hidden_size: 4, num_layers: 2 }, head: { out_features: 2, on: 'h_n' }, loss: 'mse' },
    { T: 4, B: 2 },
  ],
  [
    'GRU bidirectional lengths, recurrent dropout 0.5 (fixed masks)',
    { rnn: { mode: 'GRU', input_size: 2, hidden_size: 3, bidirectional: true, recurrent_dropout: 0.5 }, loss: 'mse' },
    { T: 4, B: 3, lengths: [2, 4, 3], h0: true },
  ],
  [
    'LSTM proj 2 layers, dropout 0.3 and recurrent dropout 0.4',
    {
      rnn: { mode: 'LSTM', input_size: 2, hidden_size: 4, proj_size: 2, num_layers: 2, dropout: 0.3, recurrent_dropout: 0.4 },
      head: { out_features: 2 },
      loss: 'mse',
    },
    { T: 3, B: 2, h0: true },
  ],
  [
    'LSTM 3 layers with dropout 0.4 in training (a fixed mask)',
    { rnn: { mode: 'LSTM', input_size: 2, hidden_size: 3, num_layers: 3, dropout: 0.4 }, head: { out_features: 2 }, loss: 'mse' },
    { T: 3, B: 2 },
  ],
];

describe('reference backward vs finite differences', () => {
  it.each(CASES)('%s', (_name, input, shape) => {
    const config = resolveModelConfig(input);
    const params = randomParams(config, 11);
    const next = seededUniform(23);
    const { T, B } = shape;
    const bf = config.rnn.batch_first;
    const D = config.rnn.bidirectional ? 2 : 1;
    const LD = config.rnn.num_layers * D;
    const Hout = config.rnn.proj_size || config.rnn.hidden_size;
    const O = config.head ? config.head.out_features : D * Hout;
    const lead = !config.head || config.head.on === 'output' ? (bf ? [B, T] : [T, B]) : [B];
    const count = (s: number[]) => s.reduce((a, b) => a * b, 1);
    const batch = prepareBatch(config, {
      ...(config.embedding
        ? { tokens: { shape: bf ? [B, T] : [T, B], data: Int32Array.from({ length: T * B }, () => Math.floor(next() * config.embedding!.num_embeddings)) } }
        : {
            input: {
              shape: bf ? [B, T, config.rnn.input_size] : [T, B, config.rnn.input_size],
              data: Float64Array.from({ length: T * B * config.rnn.input_size }, () => 2 * next() - 1),
            },
          }),
      target:
        config.loss === 'cross_entropy'
          ? { shape: lead, data: Int32Array.from({ length: count(lead) }, (_, i) => (i % 5 === 4 ? -100 : Math.floor(next() * O))) }
          : { shape: [...lead, O], data: Float64Array.from({ length: count(lead) * O }, () => 2 * next() - 1) },
      lengths: shape.lengths,
      ...(shape.h0 ? { h0: { shape: [LD, B, Hout], data: Float64Array.from({ length: LD * B * Hout }, () => next() - 0.5) } } : {}),
      ...(shape.h0 && config.rnn.mode === 'LSTM'
        ? { c0: { shape: [LD, B, config.rnn.hidden_size], data: Float64Array.from({ length: LD * B * config.rnn.hidden_size }, () => next() - 0.5) } }
        : {}),
    });
    const report = gradcheck(config, params, batch, { training: true, seed: 5 });
    for (const t of report.tensors) expect(t.relativeError, `${t.name} (${t.elements} elements)`).toBeLessThan(1e-6);
  });
});
