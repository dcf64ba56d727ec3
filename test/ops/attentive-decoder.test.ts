// The attentive decoder op alone (shaders/attentive-decoder.wgsl: the forward and the reverse loop), against
// the float64 reference (src/reference/attentive-decoder.ts), every mode and score, at awkward sizes:
// S past the workgroup (257), hidden sizes past it (65) and of 1, source lengths short of S and of 1,
// stacked layers with dropout; one, two and four batch rows per workgroup (a partial last block), the
// backward's gate gradients staged in workgroup memory and not. `saved` and `grad` start poisoned with NaN (but the carried gradients,
// which the layer clears), so an element read before it is written shows. The score's projections of
// the keys ("general", "concat") are made on the host, as the layer's GEMMs would; the weight
// gradients are checked through host GEMMs over what the kernels kept (inputs, h_{t−1}, gate gradients).
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type RnnMode, gateCount, resolveConfig } from '../../src/config.js';
import type { GpuContext } from '../../src/gpu/context.js';
import { contextFor, getDefaultDevice } from '../../src/gpu/device.js';
import { GATE_LANES } from '../../src/gpu/layer-weights.js';
import { ATTENTIVE_STAGE_MAX_VEC4, attentiveLayout, recordAttentiveDecoder } from '../../src/gpu/ops/attentive-decoder.js';
import { paramName } from '../../src/params.js';
import { seededUniform } from '../../src/random.js';
import type { AttentionGradients, ScoreKind } from '../../src/reference/attention.js';
import { attentiveDecoderBackward, attentiveDecoderForward } from '../../src/reference/attentive-decoder.js';
import { tensor } from '../../src/tensor.js';
import { recurrentSection } from '../../src/train/layers/recurrent/section.js';
import { GPU_RTOL, expectClose } from '../support/compare.js';
import { OpHarness, linear, values } from './harness.js';

let ctx: GpuContext;
let h: OpHarness;
beforeAll(async () => {
  ctx = await contextFor(await getDefaultDevice());
  h = new OpHarness(ctx);
});
afterAll(() => h.dispose());

// mode, score, layers, T, B, S, E, H, H_k, A, lengths, dropout
type Case = readonly [RnnMode, ScoreKind, number, number, number, number, number, number, number, number, readonly number[], number];
const CASES: readonly Case[] = [
  ['LSTM', 'dot', 1, 1, 1, 1, 1, 1, 1, 0, [1], 0],
  ['GRU', 'general', 2, 3, 2, 17, 3, 17, 5, 0, [17, 4], 0.4],
  ['RNN_TANH', 'concat', 1, 2, 3, 257, 2, 3, 4, 5, [257, 1, 100], 0],
  ['LSTM', 'concat', 3, 4, 2, 5, 2, 65, 3, 2, [5, 2], 0.25],
  ['RNN_RELU', 'dot', 2, 3, 3, 4, 1, 6, 6, 0, [2, 4, 1], 0],
  ['GRU', 'concat', 1, 2, 5, 3, 2, 257, 3, 4, [3, 1, 2, 3, 2], 0],
  ['LSTM', 'concat', 2, 3, 5, 6, 3, 12, 5, 7, [6, 2, 5, 1, 6], 0.2],
];

describe('attentive decoder op', () => {
  // Each case with one, two and four rows per workgroup (B = 3 and 5: a partial last block), the
  // backward's gate gradients staged in workgroup memory where they fit, else read from `grad`; where
  // they fit at four rows, read from `grad` at four rows too (the two paths differ in one helper each,
  // and four rows take every row's line of both).
  const fits = (c: Case, rows: number) => rows * c[7] <= ATTENTIVE_STAGE_MAX_VEC4;
  const variants = CASES.flatMap((c) => [
    ...[1, 2, 4].map((rows): [...Case, number, boolean] => [...c, rows, fits(c, rows)]),
    ...(fits(c, 4) ? [[...c, 4, false] as [...Case, number, boolean]] : []),
  ]);
  it.each(variants)(
    '%s, %s score, %i layer(s): T = %i, B = %i, S = %i, E = %i, H = %i, H_k = %i, A = %i, lengths %j, dropout %d; %i rows per workgroup, staged %s',
    async (mode, kind, L, T, B, S, E, H, Hk, A, lengthList, dropout, blockRows, staged) => {
      const lengths = [...lengthList];
      const config = resolveConfig({ mode: mode as RnnMode, input_size: E + Hk, hidden_size: H, num_layers: L, dropout });
      const next = seededUniform(L * 977 + T * 131 + S * 7 + H + Hk * 3 + A);
      const G = gateCount(config.mode);
      const weights: Record<string, Float64Array> = {};
      for (let l = 0; l < L; l++) {
        const I = l === 0 ? E + Hk : H;
        weights[paramName('weight_ih', l, 0)] = values(next, G * H * I);
        weights[paramName('weight_hh', l, 0)] = values(next, G * H * H);
        weights[paramName('bias_ih', l, 0)] = values(next, G * H);
        weights[paramName('bias_hh', l, 0)] = values(next, G * H);
      }
      const w = {
        W: kind === 'general' ? values(next, H * Hk) : undefined,
        Wq: kind === 'concat' ? values(next, A * H) : undefined,
        Wk: kind === 'concat' ? values(next, A * Hk) : undefined,
        v: kind === 'concat' ? values(next, A) : undefined,
      };
      const shape = { kind: kind as ScoreKind, Hq: H, Hk, A };
      const e = values(next, T * B * E);
      const keys = values(next, S * B * Hk);
      const h0 = values(next, L * B * H);
      const c0 = values(next, L * B * H);
      const dOut = values(next, T * B * H);
      const seed = 12345;
      const streamBase = 3;

      const cache = attentiveDecoderForward(
        config,
        weights,
        { shape, weights: w },
        { T, B, e, keys, S, lengths, h0, c0: mode === 'LSTM' ? c0 : undefined },
        { training: true, seed, streamBase },
      );
      const attentionGrads: AttentionGradients = {
        W: w.W && new Float64Array(w.W.length),
        Wq: w.Wq && new Float64Array(A * H),
        Wk: w.Wk && new Float64Array(A * Hk),
        v: w.v && new Float64Array(A),
      };
      const want = attentiveDecoderBackward(config, weights, { shape, weights: w }, cache, dOut, attentionGrads);

      // The flat parameters: the packed layers, then W_q and v (concat) at 4-float boundaries.
      const section = recurrentSection('decoder', config, 8);
      const wqAt = section.start + section.size;
      const vAt = wqAt + Math.ceil((A * H) / 4) * 4;
      const flat = new Float32Array(vAt + A + 4);
      section.pack(Object.fromEntries(Object.entries(weights).map(([k, v]) => [`decoder.${k}`, v])), flat);
      if (w.Wq) flat.set(w.Wq, wqAt);
      if (w.v) flat.set(w.v, vAt);
      const scoreK = kind === 'dot' ? keys : kind === 'general' ? linear(keys, S * B, Hk, w.W!, H) : linear(keys, S * B, Hk, w.Wk!, A);
      const layout = attentiveLayout({ config, T, B, S, E, Hk, A });
      const stateOf = (hs: ArrayLike<number>, cs: ArrayLike<number>) => {
        const out = new Float64Array(L * layout.layerState);
        for (let l = 0; l < L; l++) {
          out.set(Array.from(hs).slice(l * B * H, (l + 1) * B * H), l * layout.layerState);
          if (mode === 'LSTM') out.set(Array.from(cs).slice(l * B * H, (l + 1) * B * H), l * layout.layerState + B * H);
        }
        return out;
      };
      const grad = new Float64Array(layout.grad.size).fill(Number.NaN);
      grad.fill(0, layout.grad.dh, layout.grad.direct); // the carried gradients start at zero
      const keysT = h.tensor(keys, [S * B, Hk]);
      const call = {
        label: 'attentive',
        config,
        T,
        B,
        S,
        E,
        Hk,
        A,
        kind: kind === 'concat' ? ('concat' as const) : ('dot' as const),
        layers: section.layers.map((s) => ({
          wIh: s.start / GATE_LANES + s.offsets.wIh,
          bIh: s.start / GATE_LANES + s.offsets.bIh,
          wHh: s.start / GATE_LANES + s.offsets.wHh,
          bHh: s.start / GATE_LANES + s.offsets.bHh,
        })),
        wq: wqAt,
        v: vAt,
        dropout,
        streamBase,
        lengths: h.u32(lengths),
        params: h.tensor(flat, [flat.length]),
        keys: keysT,
        scoreK: kind === 'dot' ? keysT : h.tensor(scoreK, [S * B, kind === 'concat' ? A : H]),
        embedded: h.tensor(e, [T * B, E]),
        initial: h.tensor(stateOf(h0, c0), [L * layout.layerState]),
        saved: h.tensor(new Float64Array(layout.saved.size).fill(Number.NaN), [layout.saved.size]),
        grad: h.tensor(grad, [layout.grad.size]),
        blockRows,
        staged,
      };
      const op = recordAttentiveDecoder(h, call);
      op.set(ctx.device.queue, seed, true);
      const dE = h.tensor(new Float64Array(T * B * E).fill(Number.NaN), [T * B, E]);
      await h.run([...op.forward, ...op.backward(h.tensor(dOut, [T * B, H]), dE)]);
      const saved = await h.read(call.saved, layout.saved.size);
      const got = await h.read(call.grad, layout.grad.size);
      const part = (from: Float32Array, at: number, n: number) => Float64Array.from(from.subarray(at, at + n));
      const s = layout.saved;
      const g = layout.grad;
      expectClose('output', tensor([T * B, H], part(saved, s.output, T * B * H)), tensor([T * B, H], cache.output), GPU_RTOL);
      expectClose('α', tensor([T * B, S], part(saved, s.alpha, T * B * S)), tensor([T * B, S], cache.alpha), GPU_RTOL);
      const finalAt = s.state + (T % 2) * L * layout.layerState;
      expectClose(
        'final state',
        tensor([L * layout.layerState], part(saved, finalAt, L * layout.layerState)),
        tensor([L * layout.layerState], stateOf(cache.hN, cache.cN)),
        GPU_RTOL,
      );
      expectClose('dL/de', tensor([T * B, E], Float64Array.from(await h.read(dE, T * B * E))), tensor([T * B, E], want.dE), GPU_RTOL);
      expectClose('dL/dh0', tensor([L * B * H], part(got, g.dh, L * B * H)), tensor([L * B * H], want.h0), GPU_RTOL);
      if (mode === 'LSTM') expectClose('dL/dc0', tensor([L * B * H], part(got, g.dc, L * B * H)), tensor([L * B * H], want.c0), GPU_RTOL);
      // Weight gradients from what the kernels kept: Σ_r x[r, k]·dg_x[r, j, gate] (and h_{t−1} with dg_h).
      const TB = T * B;
      for (let l = 0; l < L; l++) {
        const I = l === 0 ? E + Hk : H;
        const x = part(saved, l === 0 ? s.x0 : s.x1 + (l - 1) * TB * H, TB * I);
        const hPrev = part(saved, s.hPrev + l * TB * H, TB * H);
        for (const [name, input, K, from] of [
          ['weight_ih', x, I, g.dgx],
          ['weight_hh', hPrev, H, g.dgh],
        ] as const) {
          const dg = part(got, from + l * TB * H * 4, TB * H * 4);
          const dW = new Float64Array(G * H * K);
          for (let r = 0; r < TB; r++)
            for (let gate = 0; gate < G; gate++)
              for (let j = 0; j < H; j++) for (let k = 0; k < K; k++) dW[(gate * H + j) * K + k] += input[r * K + k] * dg[(r * H + j) * 4 + gate];
          const key = paramName(name, l, 0);
          expectClose(`dL/d${key}`, tensor([G * H, K], dW), tensor([G * H, K], want.grads[key]), GPU_RTOL);
        }
      }
    },
  );
});
