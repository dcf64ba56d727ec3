// The L1 penalty op alone (recordL1, shaders/l1.wgsl) against its CPU counterpart (addL1,
// src/train/optim.ts) at sizes that are not multiples of the workgroup, with exact zeros among the
// parameters (sign 0: no gradient): grads += λ·sign(θ), and Σ|θ| summed on the GPU (gpu/ops/reduce.ts)
// as the trainer does. The magnitudes start poisoned; λ is rewritten between replays.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.js';
import { contextFor, getDefaultDevice } from '../../src/gpu/device.js';
import { recordL1 } from '../../src/gpu/ops/l1.js';
import { recordSum } from '../../src/gpu/ops/reduce.js';
import { seededUniform } from '../../src/random.js';
import { addL1 } from '../../src/train/optim.js';
import { OpHarness, values } from './harness.js';

let ctx: GpuContext;
let h: OpHarness;
beforeAll(async () => {
  ctx = await contextFor(await getDefaultDevice());
  h = new OpHarness(ctx);
});
afterAll(() => h.dispose());

describe('L1 penalty op', () => {
  it.each([1, 3, 17, 257, 70001])("n = %i: the CPU counterpart's gradient and Σ|θ|", async (n) => {
    const next = seededUniform(n);
    const p = Float32Array.from(values(next, n), (v, i) => (i % 7 === 3 ? 0 : v));
    const g = Float32Array.from(values(next, n));
    const params = h.tensor(p, [n]);
    const grads = h.tensor(g, [n]);
    const magnitudes = h.tensor(new Float64Array(n).fill(Number.NaN), [n]);
    const sum = h.tensor([Number.NaN], [1]);
    const op = recordL1(h, 'l1', { n, params, grads, magnitudes });
    const commands = [op.command, ...recordSum(h, 'l1.sum', magnitudes, n, false, sum.buffer, 0)];
    for (const lambda of [0.01, 0.5]) {
      h.ctx.device.queue.writeBuffer(grads.buffer, 0, g);
      op.set(ctx.device.queue, lambda);
      await h.run(commands);
      const want = Float64Array.from(g);
      const penalty = addL1(lambda, p, want);
      const got = await h.read(grads, n);
      for (let i = 0; i < n; i++) expect(Math.abs(got[i] - want[i]), `λ ${lambda}, element ${i}`).toBeLessThanOrEqual(1e-7 * (1 + Math.abs(want[i])));
      const total = lambda * (await h.read(sum, 1))[0];
      expect(Math.abs(total - penalty) / penalty, `λ ${lambda}: λ·Σ|θ| ${total} vs ${penalty}`).toBeLessThan(1e-5);
    }
  });
});
