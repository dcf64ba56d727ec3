// Recurrent (variational) dropout in the float64 reference (src/reference/recurrent-train.ts), checked
// against what it means rather than against itself: for one sequence (one row, one direction) the
// mask m over h_{t−1} is one fixed vector, so W_hh·(m ⊙ h_{t−1}) = (W_hh·diag(m))·h_{t−1} — the layer
// with recurrent dropout is the plain layer with W_hh's columns scaled by m (the GRU's z·h_{t−1} keeps
// the whole h either way). Its outputs, final state and gradients must be that layer's, with
// dW_hh = dW'_hh·diag(m). The finite-difference check (gradcheck.test.ts) and the GPU's agreement with
// this reference (the training suite) cover the rest; PyTorch has no recurrent dropout to compare with.
import { describe, expect, it } from 'vitest';
import { type RnnConfigInput, gateCount, outputSize, resolveConfig } from '../../src/config.js';
import { parameterSpecs } from '../../src/params.js';
import { seededUniform } from '../../src/random.js';
import { recurrentTrainBackward, recurrentTrainForward } from '../../src/reference/recurrent-train.js';
import { recurrentMask, recurrentMaskStream } from '../../src/reference/rng.js';
import { relativeError } from '../support/compare.js';

const CASES: RnnConfigInput[] = [
  { mode: 'LSTM', input_size: 3, hidden_size: 5, recurrent_dropout: 0.4 },
  { mode: 'LSTM', input_size: 2, hidden_size: 6, proj_size: 3, recurrent_dropout: 0.5 },
  { mode: 'GRU', input_size: 3, hidden_size: 7, recurrent_dropout: 0.3 },
  { mode: 'RNN_TANH', input_size: 2, hidden_size: 4, recurrent_dropout: 0.5 },
  { mode: 'RNN_RELU', input_size: 2, hidden_size: 4, recurrent_dropout: 0.25 },
];

describe('recurrent dropout = the plain layer with W_hh·diag(mask)', () => {
  it.each(CASES.map((c) => [`${c.mode}${c.proj_size ? ' proj' : ''} p ${c.recurrent_dropout}`, c] as const))('%s', (_name, input) => {
    const config = resolveConfig(input);
    const plain = resolveConfig({ ...input, recurrent_dropout: 0 });
    const T = 6;
    const H = config.hidden_size;
    const Hout = outputSize(config);
    const next = seededUniform(17);
    const weights: Record<string, Float64Array> = {};
    for (const s of parameterSpecs(config)) weights[s.name] = Float64Array.from({ length: s.shape.reduce((a, b) => a * b, 1) }, () => next() - 0.5);
    const x = Float64Array.from({ length: T * config.input_size }, () => 2 * next() - 1);
    const h0 = Float64Array.from({ length: Hout }, () => next() - 0.5);
    const c0 = Float64Array.from({ length: H }, () => next() - 0.5);
    const inputs = { T, B: 1, x, h0, c0 };
    // The first seed whose mask both keeps and drops (else the test could not tell scaling from nothing).
    const maskOf = (seed: number) => recurrentMask(seed, recurrentMaskStream(0, 0), 1, 1, Hout, config.recurrent_dropout);
    let seed = 12;
    while (!(maskOf(seed).some((m) => m === 0) && maskOf(seed).some((m) => m > 1))) seed++;
    const mask = maskOf(seed);
    const scaled = { ...weights, weight_hh_l0: weights.weight_hh_l0.map((w, i) => w * mask[i % Hout]) };
    const G = gateCount(config.mode);
    expect(weights.weight_hh_l0.length).toBe(G * H * Hout);

    const dropped = recurrentTrainForward(config, weights, inputs, { training: true, seed });
    const equivalent = recurrentTrainForward(plain, scaled, inputs, { training: true, seed });
    expect(relativeError(dropped.output, equivalent.output)).toBeLessThan(1e-14);
    expect(relativeError(dropped.hN, equivalent.hN)).toBeLessThan(1e-14);
    // And it is not the layer without dropout.
    const undropped = recurrentTrainForward(config, weights, inputs, { training: false, seed });
    expect(relativeError(undropped.output, dropped.output)).toBeGreaterThan(1e-3);
    expect(relativeError(undropped.output, recurrentTrainForward(plain, weights, inputs, { training: true, seed }).output)).toBe(0);

    const dOut = Float64Array.from({ length: T * Hout }, () => 2 * next() - 1);
    const dhN = Float64Array.from({ length: Hout }, () => next() - 0.5);
    const g = recurrentTrainBackward(config, weights, dropped, dOut, dhN);
    const e = recurrentTrainBackward(plain, scaled, equivalent, dOut, dhN);
    for (const name of Object.keys(weights)) {
      const want = name === 'weight_hh_l0' ? e.grads[name].map((v, i) => v * mask[i % Hout]) : e.grads[name];
      expect(relativeError(g.grads[name], want), name).toBeLessThan(1e-12);
    }
    expect(relativeError(g.dInput, e.dInput)).toBeLessThan(1e-12);
    expect(relativeError(g.h0, e.h0)).toBeLessThan(1e-12);
    if (config.mode === 'LSTM') expect(relativeError(g.c0, e.c0)).toBeLessThan(1e-12);
  });

  it('draws one mask per (layer, direction, row), a share p of zeros, scaled by 1/(1 − p)', () => {
    const p = 0.3;
    const m = recurrentMask(5, recurrentMaskStream(0, 1), 2, 64, 128, p);
    const dropped = m.filter((v) => v === 0).length / m.length;
    expect(Math.abs(dropped - p)).toBeLessThan(0.02); // 16,384 draws: σ ≈ 0.0036
    expect(m.every((v) => v === 0 || v === 1 / (1 - p))).toBe(true);
    // Another layer's stream, and dropout between layers' stream of the same layer, draw other masks.
    expect(relativeError(recurrentMask(5, recurrentMaskStream(0, 2), 2, 64, 128, p), m)).toBeGreaterThan(0.5);
    expect(recurrentMaskStream(0, 1)).not.toBe(1);
  });
});
