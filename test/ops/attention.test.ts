// Attention alone (recordAttend / recordAttendBackward, shaders/attention.wgsl), against the float64
// reference (src/reference/attention.ts) row by row, for every score at awkward sizes
// (S past the workgroup, lengths short of S, a length of 1), outputs poisoned. The projections that the
// layer records as GEMMs ("general"'s keys·Wᵀ, concat's q·W_qᵀ and keys·W_kᵀ, and their gradients' way
// back through W) are done here on the host in float64, so the op's share is what is checked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.js';
import { contextFor, getDefaultDevice } from '../../src/gpu/device.js';
import { attentionUsesVec4, recordAttend, recordAttendBackward } from '../../src/gpu/ops/attention.js';
import { seededUniform } from '../../src/random.js';
import { type AttentionGradients, type ScoreKind, attend, attendBackward } from '../../src/reference/attention.js';
import { tensor } from '../../src/tensor.js';
import { GPU_RTOL, expectClose } from '../support/compare.js';
import { OpHarness, linear, values } from './harness.js';

let ctx: GpuContext;
let h: OpHarness;
beforeAll(async () => {
  ctx = await contextFor(await getDefaultDevice());
  h = new OpHarness(ctx);
});
afterAll(() => h.dispose());

/** out[r, i] = Σ_o g[r, o] · w[o, i]: the way back through `linear` to its input. */
function linearBack(g: ArrayLike<number>, rows: number, outs: number, w: ArrayLike<number>, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let o = 0; o < outs; o++) for (let i = 0; i < cols; i++) out[r * cols + i] += g[r * outs + o] * w[o * cols + i];
  return out;
}

/** dW[o, i] = Σ_r g[r, o] · a[r, i]. */
function linearWeightGrad(g: ArrayLike<number>, a: ArrayLike<number>, rows: number, outs: number, cols: number): Float64Array {
  const out = new Float64Array(outs * cols);
  for (let r = 0; r < rows; r++) for (let o = 0; o < outs; o++) for (let i = 0; i < cols; i++) out[o * cols + i] += g[r * outs + o] * a[r * cols + i];
  return out;
}

const poison = (n: number) => new Float64Array(n).fill(Number.NaN);

describe('attention op', () => {
  it.each([
    // kind, T, B, S, H_k, H_q, A, lengths
    ['dot', 1, 1, 1, 1, 1, 0, [1]],
    ['dot', 3, 2, 5, 17, 17, 0, [5, 2]],
    ['dot', 2, 3, 257, 3, 3, 0, [257, 1, 130]],
    ['general', 1, 1, 1, 1, 1, 0, [1]],
    ['general', 3, 2, 17, 5, 3, 0, [4, 17]],
    ['general', 2, 3, 257, 3, 17, 0, [100, 257, 1]],
    ['concat', 1, 1, 1, 1, 1, 1, [1]],
    ['concat', 3, 2, 17, 5, 3, 4, [17, 9]],
    ['concat', 2, 3, 257, 3, 5, 17, [1, 257, 64]],
    // Every width a multiple of 4: the _vec4 entries (attentionUsesVec4).
    ['dot', 1, 1, 1, 4, 4, 0, [1]],
    ['dot', 3, 17, 5, 8, 8, 0, [5, 2, 1, 4, 5, 3, 5, 5, 1, 2, 3, 4, 5, 5, 5, 1, 2]],
    ['general', 2, 3, 257, 12, 4, 0, [100, 257, 1]],
    ['concat', 3, 2, 17, 4, 8, 12, [17, 9]],
    // Rows of 2 and 4 quads and more: several quads per invocation on a software adapter (elementLanes).
    ['dot', 2, 5, 6, 16, 16, 0, [6, 1, 3, 6, 2]],
    ['general', 3, 2, 5, 32, 8, 0, [5, 2]],
    ['concat', 2, 3, 9, 16, 8, 16, [9, 3, 7]],
  ] as const)('%s: T = %i, B = %i, S = %i, H_k = %i, H_q = %i, A = %i', async (kind, T, B, S, Hk, Hq, A, lengthList) => {
    const lengths = [...lengthList];
    // The cases cover both families of entries (the vec4 ones when every width is a multiple of 4).
    expect(attentionUsesVec4({ Hk, Hq, W: kind === 'concat' ? A : Hq })).toBe(Hk % 4 === 0 && Hq % 4 === 0 && (kind !== 'concat' || A % 4 === 0));
    const next = seededUniform(T * 131 + S * 7 + Hk + Hq * 3 + A);
    const keys = values(next, S * B * Hk);
    const q = values(next, T * B * Hq);
    const dJoined = values(next, T * B * (Hk + Hq));
    const w = {
      W: kind === 'general' ? values(next, Hq * Hk) : undefined,
      Wq: kind === 'concat' ? values(next, A * Hq) : undefined,
      Wk: kind === 'concat' ? values(next, A * Hk) : undefined,
      v: kind === 'concat' ? values(next, A) : undefined,
    };
    const shape = { kind: kind as ScoreKind, Hq, Hk, A };

    // The reference, row by row: α, the context, and the way back from dL/d[context | q].
    const alphaWant = new Float64Array(T * B * S);
    const joinedWant = new Float64Array(T * B * (Hk + Hq));
    const dKeysWant = new Float64Array(S * B * Hk);
    const dqWant = new Float64Array(T * B * Hq);
    const gradsWant: AttentionGradients = {
      W: w.W && new Float64Array(Hq * Hk),
      Wq: w.Wq && new Float64Array(A * Hq),
      Wk: w.Wk && new Float64Array(A * Hk),
      v: w.v && new Float64Array(A),
    };
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const r = t * B + b;
        const keysOfRow = { data: keys, stride: B * Hk, offset: b * Hk, len: lengths[b] };
        const qr = q.subarray(r * Hq, (r + 1) * Hq);
        const { alpha, context, cache } = attend(shape, w, qr, keysOfRow);
        alphaWant.set(alpha, r * S);
        joinedWant.set(context, r * (Hk + Hq));
        joinedWant.set(qr, r * (Hk + Hq) + Hk);
        const dRow = dJoined.subarray(r * (Hk + Hq), (r + 1) * (Hk + Hq));
        const dq = attendBackward(shape, w, qr, keysOfRow, cache, dRow.subarray(0, Hk), dKeysWant, gradsWant);
        for (let i = 0; i < Hq; i++) dqWant[r * Hq + i] = dq[i] + dRow[Hk + i];
      }
    }

    // The score's operands, as the layer's GEMMs would make them.
    const Wd = kind === 'concat' ? A : Hq;
    const scoreQ = kind === 'concat' ? linear(q, T * B, Hq, w.Wq!, A) : q;
    const scoreK = kind === 'dot' ? keys : kind === 'general' ? linear(keys, S * B, Hk, w.W!, Hq) : linear(keys, S * B, Hk, w.Wk!, A);
    const keysT = h.tensor(keys, [S * B, Hk]);
    const qT = h.tensor(q, [T * B, Hq]);
    const call = {
      label: `attention.${kind}`,
      T,
      B,
      S,
      Hk,
      Hq,
      W: Wd,
      kind: kind === 'concat' ? ('concat' as const) : ('dot' as const),
      lengths: h.u32(lengths),
      keys: keysT,
      q: qT,
      scoreQ: kind === 'concat' ? h.tensor(scoreQ, [T * B, A]) : qT,
      scoreK: kind === 'dot' ? keysT : h.tensor(scoreK, [S * B, Wd]),
      v: w.v && h.tensor(w.v, [A], 'f32', 3), // inside the flat parameters in a model
      alpha: h.tensor(poison(T * B * S), [T, B, S]),
      joined: h.tensor(poison(T * B * (Hk + Hq)), [T * B, Hk + Hq]),
    };
    await h.run(recordAttend(h, call));
    expectClose('α', tensor([T, B, S], await h.read(call.alpha, T * B * S)), tensor([T, B, S], alphaWant), GPU_RTOL);
    expectClose('[context | q]', tensor([T * B, Hk + Hq], await h.read(call.joined, T * B * (Hk + Hq))), tensor([T * B, Hk + Hq], joinedWant), GPU_RTOL);

    const back = {
      ...call,
      dJoined: h.tensor(dJoined, [T * B, Hk + Hq]),
      dScore: h.tensor(poison(T * B * S), [T, B, S]),
      dQuery: h.tensor(poison(T * B * Hq), [T * B, Hq]),
      dKeys: h.tensor(poison(S * B * Hk), [S * B, Hk]),
      dScoreQ: kind === 'concat' ? h.tensor(poison(T * B * A), [T * B, A]) : undefined,
      dScoreK: kind === 'dot' ? undefined : h.tensor(poison(S * B * Wd), [S * B, Wd]),
      dV: kind === 'concat' ? h.tensor(poison(A), [A], 'f32', 7) : undefined,
    };
    await h.run(recordAttendBackward(h, back));
    // dL/dq has nowhere to go without dQuery, unless the attentive decoder's loop took it (fromLoop).
    expect(() => recordAttendBackward(h, { ...back, dQuery: undefined })).toThrow(/dQuery is needed unless the loop took dL\/dq/);
    // Positions past a row's length get exactly 0, every other element written.
    const dKeys = Float64Array.from(await h.read(back.dKeys, S * B * Hk));
    for (let s = 0; s < S; s++) for (let b = 0; b < B; b++) if (s >= lengths[b]) for (let k = 0; k < Hk; k++) expect(dKeys[(s * B + b) * Hk + k]).toBe(0);
    const dq = Float64Array.from(await h.read(back.dQuery, T * B * Hq));
    const grads: Record<string, Float64Array> = {};
    if (kind === 'general') {
      // score_k[s] = W k_s with W (H_q, H_k), so dkeys += dscore_k · W, dW = dscore_kᵀ · keys.
      const dScoreK = await h.read(back.dScoreK!, S * B * Hq);
      const viaW = linearBack(dScoreK, S * B, Hq, w.W!, Hk);
      for (let i = 0; i < dKeys.length; i++) dKeys[i] += viaW[i];
      grads.W = linearWeightGrad(dScoreK, keys, S * B, Hq, Hk);
    } else if (kind === 'concat') {
      const dScoreQ = await h.read(back.dScoreQ!, T * B * A);
      const dScoreK = await h.read(back.dScoreK!, S * B * A);
      const viaWq = linearBack(dScoreQ, T * B, A, w.Wq!, Hq);
      const viaWk = linearBack(dScoreK, S * B, A, w.Wk!, Hk);
      for (let i = 0; i < dq.length; i++) dq[i] += viaWq[i];
      for (let i = 0; i < dKeys.length; i++) dKeys[i] += viaWk[i];
      grads.Wq = linearWeightGrad(dScoreQ, q, T * B, A, Hq);
      grads.Wk = linearWeightGrad(dScoreK, keys, S * B, A, Hk);
      grads.v = Float64Array.from(await h.read(back.dV!, A));
    }
    expectClose('dL/dq', tensor([T * B, Hq], dq), tensor([T * B, Hq], dqWant), GPU_RTOL);
    expectClose('dL/dkeys', tensor([S * B, Hk], dKeys), tensor([S * B, Hk], dKeysWant), GPU_RTOL);
    for (const [name, g] of Object.entries(grads)) {
      const want = gradsWant[name as keyof AttentionGradients]!;
      expectClose(`dL/d${name}`, tensor([want.length], g), tensor([want.length], want), GPU_RTOL);
    }

    // Where the vec4 entries ran, the scalar ones give the same bits: every sum runs in the same order,
    // so a model trains the same whichever family serves it.
    if (call.Hk % 4 === 0 && call.Hq % 4 === 0 && call.W % 4 === 0) {
      const outputs = (c: typeof back) => [c.alpha, c.joined, c.dQuery, c.dKeys, c.dScoreQ, c.dScoreK, c.dV].filter((t) => t !== undefined);
      const vec4Bits = await Promise.all(
        outputs(back).map((t) =>
          h.read(
            t,
            t.shape.reduce((a, b) => a * b, 1),
          ),
        ),
      );
      const scalar = {
        ...back,
        vec4: false,
        alpha: h.tensor(poison(T * B * S), [T, B, S]),
        joined: h.tensor(poison(T * B * (Hk + Hq)), [T * B, Hk + Hq]),
        dScore: h.tensor(poison(T * B * S), [T, B, S]),
        dQuery: h.tensor(poison(T * B * Hq), [T * B, Hq]),
        dKeys: h.tensor(poison(S * B * Hk), [S * B, Hk]),
        dScoreQ: back.dScoreQ && h.tensor(poison(T * B * A), [T * B, A]),
        dScoreK: back.dScoreK && h.tensor(poison(S * B * Wd), [S * B, Wd]),
        dV: back.dV && h.tensor(poison(A), [A], 'f32', 7),
      };
      await h.run(recordAttend(h, scalar));
      await h.run(recordAttendBackward(h, scalar));
      const scalarBits = await Promise.all(
        outputs(scalar).map((t) =>
          h.read(
            t,
            t.shape.reduce((a, b) => a * b, 1),
          ),
        ),
      );
      for (const [i, bits] of vec4Bits.entries()) expect(Array.from(scalarBits[i]), `output ${i}`).toEqual(Array.from(bits));
    }
  });
});
