/**
 * The demo's float64 cell evaluator (demo/cell-evaluator.ts: the gates panel's source of every gate
 * value) against the library's CPU backend: for each cell, one and two layers, its h_t at every step
 * equals the library's recurrent output (a model without a head), and its head logits equal
 * trainer.predict's (the next-character model's shape), to 1e-12. The weights are drawn wider than
 * PyTorch's initialisation so that gates saturate as a trained model's do.
 */
import { describe, expect, it } from 'vitest';
import { type ModelConfigInput, type RnnMode, type Tensor, createTrainer, modelParameterSpecs, resolveModelConfig } from '../src/index.js';
import { seededUniform } from '../src/random.js';
import { GATE_SYMBOLS, evaluateCells, gateRange, headLogits } from '../demo/cell-evaluator.js';

const V = 7;
const E = 5;
const H = 6;
const TOKENS = [3, 0, 6, 6, 2, 5, 1, 4, 3];
const TOL = 1e-12;

/** Every parameter of `model` uniform in (−0.8, 0.8), as tensors with PyTorch's shapes. */
function widened(model: ModelConfigInput, seed: number): Record<string, Tensor> {
  const next = seededUniform(seed);
  return Object.fromEntries(
    modelParameterSpecs(resolveModelConfig(model)).map((s) => [
      s.name,
      { shape: [...s.shape], data: Float64Array.from({ length: s.shape.reduce((a, b) => a * b, 1) }, () => 1.6 * (next() - 0.5)) },
    ]),
  );
}

const worst = (a: number[][], b: ArrayLike<number>) => Math.max(...a.flat().map((v, i) => Math.abs(v - b[i])));

describe('demo cell evaluator', () => {
  for (const mode of ['LSTM', 'GRU', 'RNN_TANH', 'RNN_RELU'] as RnnMode[]) {
    for (const layers of [1, 2]) {
      it(`${mode}, ${layers} layer(s): h_t at every step and the head's logits equal the CPU backend's to ${TOL}`, async () => {
        const withHead: ModelConfigInput = {
          embedding: { num_embeddings: V, embedding_dim: E },
          rnn: { mode, input_size: E, hidden_size: H, num_layers: layers },
          head: { out_features: V },
          loss: 'cross_entropy',
        };
        const weights = widened(withHead, 11 + layers);
        const config = resolveModelConfig(withHead);
        const gates = evaluateCells(config, weights, TOKENS);
        expect(gates).toHaveLength(layers);
        const tokens = { shape: [TOKENS.length, 1], data: Int32Array.from(TOKENS) };

        // The recurrent module's output is the last layer's h_t at every step: a model without a head gives it.
        const { head: _head, ...bare } = withHead;
        const bareWeights = Object.fromEntries(Object.entries(weights).filter(([k]) => !k.startsWith('head.')));
        const plain = await createTrainer({ model: { ...bare, loss: 'mse' }, backend: 'cpu', weights: bareWeights });
        const hs = (await plain.predict({ tokens })).data;
        expect(hs).toHaveLength(TOKENS.length * H);
        expect(worst(gates[layers - 1].h, hs)).toBeLessThanOrEqual(TOL);
        await plain.destroy();

        const full = await createTrainer({ model: withHead, backend: 'cpu', weights });
        const logits = (await full.predict({ tokens })).data;
        expect(worst(headLogits(config, weights, gates[layers - 1].h), logits)).toBeLessThanOrEqual(TOL);
        await full.destroy();

        // Each kept gate has a value per step and unit, inside its activation's range.
        for (const layer of gates) {
          expect(Object.keys(layer)).toEqual([...GATE_SYMBOLS[mode]]);
          for (const [symbol, values] of Object.entries(layer)) {
            expect(values).toHaveLength(TOKENS.length);
            const [lo, hi] = gateRange(mode, symbol);
            for (const v of values.flat()) {
              expect(v).toBeGreaterThanOrEqual(lo);
              expect(v).toBeLessThanOrEqual(hi);
            }
          }
        }
      });
    }
  }

  it("one LSTM unit by hand: σ and tanh in PyTorch's gate order i, f, g, o", () => {
    // Weights chosen so each gate's pre-activation is distinct: x = 1 (embedding 1×1), h₀ = 0.
    const model = resolveModelConfig({ embedding: { num_embeddings: 1, embedding_dim: 1 }, rnn: { mode: 'LSTM', input_size: 1, hidden_size: 1 }, loss: 'mse' });
    const pre = [0.5, -1, 2, 0.25]; // i, f, g, o
    const params = {
      'embedding.weight': { shape: [1, 1], data: Float64Array.of(1) },
      'rnn.weight_ih_l0': { shape: [4, 1], data: Float64Array.from(pre) },
      'rnn.weight_hh_l0': { shape: [4, 1], data: new Float64Array(4) },
      'rnn.bias_ih_l0': { shape: [4], data: new Float64Array(4) },
      'rnn.bias_hh_l0': { shape: [4], data: new Float64Array(4) },
    };
    const [gates] = evaluateCells(model, params, [0]);
    const s = (v: number) => 1 / (1 + Math.exp(-v));
    expect(gates.i[0][0]).toBeCloseTo(s(0.5), 15);
    expect(gates.f[0][0]).toBeCloseTo(s(-1), 15);
    expect(gates.g[0][0]).toBeCloseTo(Math.tanh(2), 15);
    expect(gates.o[0][0]).toBeCloseTo(s(0.25), 15);
    expect(gates.c[0][0]).toBeCloseTo(s(0.5) * Math.tanh(2), 15);
    expect(gates.h[0][0]).toBeCloseTo(s(0.25) * Math.tanh(s(0.5) * Math.tanh(2)), 15);
  });
});
