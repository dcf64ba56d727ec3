// The optimizer op alone (recordOptimizer, shaders/optimizer.wgsl) for every optimizer of the registry
// (src/train/optimizers/) and their variants, with clipping and a schedule, against the float64
// reference step (optim.ts's referenceStep, the registry's updates): the parameters and every state
// vector after three steps, at awkward sizes. A step whose loss or ‖g‖² is not finite changes nothing,
// is recorded in the results' halt slots, and every step after it changes nothing either. And the
// registry's contract: each optimizer's code is the value of the shader's constant of its name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.js';
import { contextFor, getDefaultDevice } from '../../src/gpu/device.js';
import { OPTIMIZER_WGSL, RESULT_SLOTS, RESULT_WORDS, optimizerLength, recordOptimizer } from '../../src/gpu/ops/optimizer.js';
import { readBuffer } from '../../src/gpu/readback.js';
import { seededUniform } from '../../src/random.js';
import { type OptimizerConfigInput, optimizerKernel, optimizerScalars, optimizerState, referenceStep, resolveOptimizer } from '../../src/train/optim.js';
import { OPTIMIZERS } from '../../src/train/optimizers/index.js';
import { OpHarness, values } from './harness.js';

let ctx: GpuContext;
let h: OpHarness;
beforeAll(async () => {
  ctx = await contextFor(await getDefaultDevice());
  h = new OpHarness(ctx);
});
afterAll(() => h.dispose());

const CONFIGS: OptimizerConfigInput[] = [
  { name: 'sgd', lr: 0.1 },
  { name: 'sgd', lr: 0.05, momentum: 0.9, dampening: 0.1, weight_decay: 0.01, clip_grad_value: 0.5 },
  { name: 'sgd', lr: 0.05, momentum: 0.8, nesterov: true, clip_grad_norm: 0.7 },
  { name: 'adam', lr: 0.01 },
  { name: 'adam', lr: 0.01, amsgrad: true, weight_decay: 0.1, betas: [0.8, 0.95], lr_schedule: { name: 'cosine', T_max: 5 } },
  { name: 'adamw', lr: 0.02, weight_decay: 0.05, clip_grad_norm: 1 },
  { name: 'rmsprop', lr: 0.01 },
  { name: 'rmsprop', lr: 0.01, centered: true, momentum: 0.5, weight_decay: 0.02, lr_schedule: { name: 'step', step_size: 2, gamma: 0.5 } },
];

/** The results words as the sum op would leave them: the loss, then ‖clamp(g)‖². */
function results(loss: number, grads: Float64Array, clip: number | undefined): Uint32Array {
  const words = new Float32Array(RESULT_WORDS);
  words[RESULT_SLOTS.loss] = loss;
  words[RESULT_SLOTS.normSq] = grads.reduce((a, g) => a + (clip === undefined ? g : Math.min(clip, Math.max(-clip, g))) ** 2, 0);
  return new Uint32Array(words.buffer);
}

describe('optimizer op', () => {
  it("each optimizer's code is the shader's constant of its name", () => {
    for (const def of Object.values(OPTIMIZERS)) expect(OPTIMIZER_WGSL).toMatch(new RegExp(`const ${def.wgsl.constant}: u32 = ${def.wgsl.code}u;`));
    expect(new Set(Object.values(OPTIMIZERS).map((d) => d.wgsl.code)).size).toBe(Object.keys(OPTIMIZERS).length);
  });

  for (const input of CONFIGS) {
    it.each([1, 3, 17, 257])(`${JSON.stringify(input)}: n = %i, three steps`, async (n) => {
      const opt = resolveOptimizer(input);
      const next = seededUniform(n);
      const p0 = values(next, n);
      // The vectors at the op's padded length; the padding holds values of its own (large, and a
      // gradient past the clip), which a lane mix-up would carry into the first n.
      const length = optimizerLength(n);
      const padded = (head: ArrayLike<number>, fill: number) => Float64Array.from({ length }, (_, i) => (i < n ? head[i] : fill));
      const params = h.tensor(padded(p0, 50), [length]);
      const grads = h.tensor(new Float64Array(length), [length]);
      const state = h.tensor(new Float64Array(3 * length), [3 * length]);
      const res = h.u32(new Uint32Array(RESULT_WORDS));
      const op = recordOptimizer(h, { label: 'optimizer', n, params, grads, state, results: res });
      const ref = { p: Float64Array.from(p0, Math.fround), state: optimizerState(n) };
      for (let step = 1; step <= 3; step++) {
        const g = Float64Array.from(values(next, n), (v) => Math.fround(3 * v));
        ctx.device.queue.writeBuffer(grads.buffer, 0, Float32Array.from(padded(g, 40)));
        ctx.device.queue.writeBuffer(res.buffer, 0, results(0.5, g, opt.clip_grad_value));
        await h.run([op.step(ctx.device.queue, optimizerKernel(opt), optimizerScalars(opt, step))]);
        referenceStep(opt, ref.state, ref.p, g);
      }
      const got = await h.read(params, n);
      const gotState = await h.read(state, 3 * length);
      for (let i = 0; i < n; i++) expect(Math.abs(got[i] - ref.p[i]), `p[${i}]`).toBeLessThanOrEqual(2e-6 * (1 + Math.abs(ref.p[i])));
      const s = ref.state;
      ([s.a, s.b, s.c] as const).forEach((want, k) => {
        for (let i = 0; i < n; i++) {
          const have = gotState[k * length + i];
          expect(Math.abs(have - want[i]), `state ${'abc'[k]}[${i}]`).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(want[i])));
        }
      });
    });
  }

  it('a step whose loss or ‖g‖² is not finite changes nothing, is recorded, and halts every later step', async () => {
    const n = 17;
    const opt = resolveOptimizer({ name: 'adam', lr: 0.1 });
    const length = optimizerLength(n);
    const p0 = values(seededUniform(5), length);
    const params = h.tensor(p0, [length]);
    const g = Float64Array.from({ length }, () => 0.5);
    const grads = h.tensor(g, [length]);
    const state = h.tensor(new Float64Array(3 * length), [3 * length]);
    const res = h.u32(new Uint32Array(RESULT_WORDS));
    const op = recordOptimizer(h, { label: 'optimizer', n, params, grads, state, results: res });
    const read = async () => new Uint32Array((await readBuffer(ctx, 'results', res.buffer, RESULT_WORDS)).buffer);
    for (const [loss, normSq] of [
      [Number.NaN, 1],
      [1, Number.POSITIVE_INFINITY],
    ]) {
      const words = new Float32Array(RESULT_WORDS);
      words[RESULT_SLOTS.loss] = loss;
      words[RESULT_SLOTS.normSq] = normSq;
      ctx.device.queue.writeBuffer(res.buffer, 0, words);
      await h.run([op.step(ctx.device.queue, optimizerKernel(opt), optimizerScalars(opt, 4))]);
      expect(Array.from(await h.read(params, length))).toEqual(Array.from(Float32Array.from(p0)));
      expect(Array.from(await h.read(state, 3 * length)).every((v) => v === 0)).toBe(true);
      const r = await read();
      const f = new Float32Array(r.buffer);
      expect(r[RESULT_SLOTS.haltStep]).toBe(4);
      expect([f[RESULT_SLOTS.haltLoss], f[RESULT_SLOTS.haltNormSq]]).toEqual([Math.fround(loss), Math.fround(normSq)]);
      // A finite step after it: still nothing, while the halt is recorded.
      words[RESULT_SLOTS.loss] = 1;
      words[RESULT_SLOTS.normSq] = 1;
      ctx.device.queue.writeBuffer(res.buffer, 0, new Uint32Array([...new Uint32Array(words.buffer).subarray(0, 2), 4, ...r.subarray(3)]));
      await h.run([op.step(ctx.device.queue, optimizerKernel(opt), optimizerScalars(opt, 5))]);
      expect(Array.from(await h.read(params, length))).toEqual(Array.from(Float32Array.from(p0)));
      ctx.device.queue.writeBuffer(res.buffer, 0, new Uint32Array(RESULT_WORDS));
    }
  });

  it('vectors shorter than the padded length are refused, naming the vector', () => {
    const n = 17;
    const length = optimizerLength(n);
    expect(length).toBe(20);
    const full = {
      params: h.tensor(new Float64Array(length), [length]),
      grads: h.tensor(new Float64Array(length), [length]),
      state: h.tensor(new Float64Array(3 * length), [3 * length]),
    };
    const results = h.u32(new Uint32Array(RESULT_WORDS));
    expect(() => recordOptimizer(h, { label: 'opt', n, ...full, grads: h.tensor(new Float64Array(n), [n]), results })).toThrow(
      'opt: grads holds 17 floats, expected 20 for 17 parameters',
    );
    expect(() => recordOptimizer(h, { label: 'opt', n, ...full, state: h.tensor(new Float64Array(3 * n), [3 * n]), results })).toThrow(
      'opt: state holds 51 floats, expected 60',
    );
  });
});
