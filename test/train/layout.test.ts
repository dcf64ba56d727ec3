// The trainer's flat parameter layout: a state_dict packed and unpacked comes back exactly, sections
// start on vec4 boundaries, and the packed RNN layers are exactly what the inference engine uploads.
import { describe, expect, it } from 'vitest';
import { type ModelConfigInput, modelParameterSpecs, resolveModelConfig } from '../../src/train/config.js';
import { flatLayout, pack, unpack } from '../../src/train/layout.js';
import { seededUniform } from '../../src/random.js';

const MODELS: ModelConfigInput[] = [
  {
    embedding: { num_embeddings: 7, embedding_dim: 3 },
    rnn: { mode: 'LSTM', input_size: 3, hidden_size: 5, proj_size: 2, num_layers: 2, bidirectional: true },
    head: { out_features: 3 },
    loss: 'cross_entropy',
  },
  { rnn: { mode: 'GRU', input_size: 5, hidden_size: 3, num_layers: 3, bias: false }, head: { out_features: 1, on: 'h_n', bias: false }, loss: 'mse' },
  { rnn: { mode: 'RNN_RELU', input_size: 1, hidden_size: 1 }, loss: 'mse' },
];

describe('flat parameter layout', () => {
  it.each(MODELS.map((m) => [m.rnn.mode, m] as const))('%s: pack then unpack is the identity, sections vec4-aligned', (_mode, input) => {
    const model = resolveModelConfig(input);
    const layout = flatLayout(model);
    const next = seededUniform(3);
    const params = Object.fromEntries(
      modelParameterSpecs(model).map((s) => [s.name, Float32Array.from({ length: s.shape.reduce((a, b) => a * b, 1) }, () => next() - 0.5)]),
    );
    const back = unpack(model, layout, pack(model, layout, params));
    expect(Object.keys(back)).toEqual(Object.keys(params));
    for (const [k, v] of Object.entries(params)) expect(back[k], k).toEqual(v);
    const starts = [layout.embedding, layout.headWeight, layout.headBias, ...layout.layers.flatMap((s) => [s.start, s.wHr])].filter(
      (v) => v !== undefined,
    ) as number[];
    for (const s of starts) expect(s % 4).toBe(0);
    expect(layout.size % 4).toBe(0);
  });
});
