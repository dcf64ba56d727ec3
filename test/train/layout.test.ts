// The trainer's flat parameter layout: a state_dict packed and unpacked comes back exactly, sections
// start on vec4 boundaries, and the packed RNN layers are exactly what the inference engine uploads.
import { describe, expect, it } from 'vitest';
import { type ModelConfigInput, resolveModelConfig } from '../../src/train/config.js';
import type { RecurrentSection } from '../../src/train/layers/recurrent/index.js';
import { modelParameterSpecs, packParameters, trainModel, unpackParameters } from '../../src/train/model.js';
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
    const composition = trainModel(model);
    const next = seededUniform(3);
    const params = Object.fromEntries(
      modelParameterSpecs(model).map((s) => [s.name, Float32Array.from({ length: s.shape.reduce((a, b) => a * b, 1) }, () => next() - 0.5)]),
    );
    const back = unpackParameters(composition, packParameters(composition, params));
    expect(Object.keys(back)).toEqual(Object.keys(params));
    for (const [k, v] of Object.entries(params)) expect(back[k], k).toEqual(v);
    const rnn = composition.sections[composition.layers.indexOf(composition.recurrent)] as RecurrentSection;
    const starts = [...composition.sections.map((s) => s.start), ...rnn.layers.flatMap((s) => [s.start, s.wHr])].filter((v) => v !== undefined) as number[];
    for (const s of starts) expect(s % 4).toBe(0);
    expect(composition.size % 4).toBe(0);
    // The sections tile the buffer in state_dict order.
    composition.sections.forEach((s, i) => expect(s.start).toBe(i === 0 ? 0 : composition.sections[i - 1].start + composition.sections[i - 1].size));
  });
});
