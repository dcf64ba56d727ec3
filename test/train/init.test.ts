// Initialisation (src/train/init.ts): PyTorch's default bounds, Xavier and Kaiming per gate block,
// orthogonal recurrent blocks (QᵀQ = I), the LSTM forget bias, seeding, and bad options named.
import { describe, expect, it } from 'vitest';
import { RnnError } from '../../src/errors.js';
import { resolveModelConfig } from '../../src/train/config.js';
import { initialParameters } from '../../src/train/init.js';
import { orthogonal } from '../../src/train/layers/recurrent/orthogonal.js';
import { seededUniform } from '../../src/random.js';

const model = resolveModelConfig({
  embedding: { num_embeddings: 11, embedding_dim: 6 },
  rnn: { mode: 'LSTM', input_size: 6, hidden_size: 9, num_layers: 2, bidirectional: true },
  head: { out_features: 5 },
  loss: 'cross_entropy',
});
const maxAbs = (a: Float64Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

describe('initialisation', () => {
  it('default: every recurrent tensor U(−1/√H, 1/√H), the head U(−1/√fan_in, …), the embedding N(0, 1); seeded', () => {
    const p = initialParameters(model, { seed: 4 });
    for (const [name, v] of Object.entries(p)) {
      if (name.startsWith('rnn.')) expect(maxAbs(v), name).toBeLessThanOrEqual(1 / 3);
      if (name.startsWith('rnn.')) expect(maxAbs(v), name).toBeGreaterThan(0.8 / 3); // spread over the whole range
    }
    expect(maxAbs(p['head.weight'])).toBeLessThanOrEqual(1 / Math.sqrt(18));
    const e = p['embedding.weight'];
    const mean = e.reduce((a, v) => a + v, 0) / e.length;
    const variance = e.reduce((a, v) => a + (v - mean) ** 2, 0) / e.length;
    expect(Math.abs(mean)).toBeLessThan(0.3);
    expect(variance).toBeGreaterThan(0.6);
    expect(variance).toBeLessThan(1.5);
    expect(initialParameters(model, { seed: 4 })['rnn.weight_hh_l1']).toEqual(p['rnn.weight_hh_l1']);
    expect(initialParameters(model, { seed: 5 })['rnn.weight_hh_l1']).not.toEqual(p['rnn.weight_hh_l1']);
  });

  it('xavier and kaiming: per gate block bounds, zero biases', () => {
    for (const [scheme, bound] of [
      ['xavier', (fanIn: number, fanOut: number) => Math.sqrt(6 / (fanIn + fanOut))],
      ['kaiming', (fanIn: number) => Math.sqrt(6 / fanIn)],
    ] as const) {
      const p = initialParameters(model, { scheme, seed: 1 });
      expect(maxAbs(p['rnn.weight_ih_l0']), scheme).toBeLessThanOrEqual(bound(6, 9));
      expect(maxAbs(p['rnn.weight_ih_l0']), scheme).toBeGreaterThan(0.8 * bound(6, 9));
      expect(maxAbs(p['rnn.weight_ih_l1']), scheme).toBeLessThanOrEqual(bound(18, 9));
      expect(maxAbs(p['rnn.bias_ih_l0']), scheme).toBe(0);
      expect(maxAbs(p['head.bias']), scheme).toBe(0);
    }
  });

  it("orthogonal: each gate block of every W_hh has orthonormal columns; forgetBias sets b_ih's forget block, b_hh's to 0", () => {
    const p = initialParameters(model, { orthogonal: true, forgetBias: 1, seed: 2 });
    const H = 9;
    for (const name of ['rnn.weight_hh_l0', 'rnn.weight_hh_l1_reverse']) {
      for (let g = 0; g < 4; g++) {
        const q = p[name].subarray(g * H * H, (g + 1) * H * H);
        for (let i = 0; i < H; i++) {
          for (let j = 0; j < H; j++) {
            let dot = 0;
            for (let k = 0; k < H; k++) dot += q[k * H + i] * q[k * H + j];
            expect(Math.abs(dot - (i === j ? 1 : 0))).toBeLessThan(1e-12);
          }
        }
      }
    }
    expect(Array.from(p['rnn.bias_ih_l0'].subarray(H, 2 * H))).toEqual(new Array(H).fill(1));
    expect(Array.from(p['rnn.bias_hh_l0'].subarray(H, 2 * H))).toEqual(new Array(H).fill(0));
    expect(maxAbs(p['rnn.bias_ih_l0'].subarray(0, H))).toBeGreaterThan(0); // the other gates keep their draw
    // A tall block (proj_size: W_hh is (4H, P)) gets orthonormal columns, a wide one orthonormal rows.
    const tall = orthogonal(7, 3, seededUniform(1));
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        let dot = 0;
        for (let k = 0; k < 7; k++) dot += tall[k * 3 + i] * tall[k * 3 + j];
        expect(Math.abs(dot - (i === j ? 1 : 0))).toBeLessThan(1e-12);
      }
  });

  it.each([
    [{ scheme: 'he' }, /init.scheme: expected "default", "xavier" or "kaiming", got "he"/],
    [{ forgetBias: '1' }, /init.forgetBias: expected a finite number, got "1"/],
    [{ orthogonal: 1 }, /init.orthogonal: expected true or false, got 1/],
    [{ seed: -1 }, /init.seed: expected a non-negative integer, got -1/],
    [{ sead: 1 }, /init: unknown option\(s\) sead/],
  ])('%j is a clear error', (options, message) => {
    expect(() => initialParameters(model, options as never)).toThrow(RnnError);
    expect(() => initialParameters(model, options as never)).toThrow(message);
  });
});
