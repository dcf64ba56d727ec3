// The loss op alone (recordLoss, shaders/loss.wgsl) for every loss of the registry (src/train/losses/),
// against the entry's float64 reference: dL/dy per element and the loss (the rows' shares summed on the
// host), at awkward sizes (and rows of a multiple of 4 floats: cross_entropy_vec4), with large logits
// (a stable softmax) and ignored targets; nothing left to count is NaN, as PyTorch's 0/0. And the
// registry's contract: every entry point it names is in the shader.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.js';
import { contextFor, getDefaultDevice } from '../../src/gpu/device.js';
import { LOSS_WGSL, lossUsesVec4, recordLoss } from '../../src/gpu/ops/loss.js';
import { seededUniform } from '../../src/random.js';
import { IGNORE_INDEX, LOSSES } from '../../src/train/losses/index.js';
import { OpHarness, values } from './harness.js';

let ctx: GpuContext;
let h: OpHarness;
beforeAll(async () => {
  ctx = await contextFor(await getDefaultDevice());
  h = new OpHarness(ctx);
});
afterAll(() => h.dispose());

async function gpuLoss(name: keyof typeof LOSSES, y: Float32Array, target: ArrayLike<number>, rows: number, O: number) {
  const def = LOSSES[name];
  const classes = def.targets === 'classes';
  const targetT = classes ? { ...h.u32(Uint32Array.from(target, (v) => v >>> 0)), dtype: 'i32' as const } : h.tensor(target, [rows, O]);
  const dy = h.tensor(new Float64Array(rows * O).fill(Number.NaN), [rows, O]);
  const rowLoss = h.tensor(new Float64Array(rows).fill(Number.NaN), [rows]);
  const op = recordLoss(h, { label: name, entryPoint: def.entryPoint, rows, O, y: h.tensor(y, [rows, O]), target: targetT, dy, rowLoss });
  op.setScale(ctx.device.queue, def.scale(target, O));
  await h.run([op.command]);
  const rowsGot = await h.read(rowLoss, rows);
  return { loss: rowsGot.reduce((a, v) => a + v, 0), dy: await h.read(dy, rows * O) };
}

describe('loss op', () => {
  it('the registry names entry points the shader has', () => {
    for (const def of Object.values(LOSSES)) expect(LOSS_WGSL).toMatch(new RegExp(`\\bfn ${def.entryPoint}\\(`));
  });

  for (const name of Object.keys(LOSSES) as Array<keyof typeof LOSSES>) {
    it.each([
      [1, 1],
      [3, 17],
      [17, 3],
      [257, 5],
      // O a multiple of 4: cross_entropy's vec4 form
      [3, 4],
      [17, 68],
      [5, 1000],
    ])(`${name}: rows = %i, O = %i`, async (rows, O) => {
      const next = seededUniform(rows * 7 + O);
      const y = Float32Array.from(values(next, rows * O), (v) => 40 * v); // logits far from 0
      const classes = LOSSES[name].targets === 'classes';
      const target = classes
        ? Int32Array.from({ length: rows }, (_, r) => (r % 5 === 4 ? IGNORE_INDEX : Math.floor(next() * O)))
        : Float32Array.from(values(next, rows * O));
      const vec4 = lossUsesVec4({ entryPoint: LOSSES[name].entryPoint, O, y: { offset: 0 }, dy: { offset: 0 } } as Parameters<typeof lossUsesVec4>[0]);
      expect(vec4, 'the vec4 form').toBe(name === 'cross_entropy' && O % 4 === 0);
      const got = await gpuLoss(name, y, target, rows, O);
      const want = LOSSES[name].reference(y, target, O);
      expect(Math.abs(got.loss - want.loss)).toBeLessThanOrEqual(1e-5 * Math.abs(want.loss) + 1e-6);
      for (let i = 0; i < rows * O; i++) expect(Math.abs(got.dy[i] - want.dy[i]), `dy[${i}]`).toBeLessThanOrEqual(1e-5 * Math.abs(want.dy[i]) + 1e-7);
    });
  }

  it('cross_entropy with every target ignored is NaN, as PyTorch', async () => {
    const got = await gpuLoss('cross_entropy', Float32Array.of(1, 2, 3, 4), Int32Array.of(IGNORE_INDEX, IGNORE_INDEX), 2, 2);
    expect(got.loss).toBeNaN();
    expect(LOSSES.cross_entropy.reference(Float32Array.of(1, 2, 3, 4), Int32Array.of(IGNORE_INDEX, IGNORE_INDEX), 2).loss).toBeNaN();
    // The vec4 form (rows of 4), its dy all zeros.
    const wide = await gpuLoss('cross_entropy', Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8), Int32Array.of(IGNORE_INDEX, IGNORE_INDEX), 2, 4);
    expect(wide.loss).toBeNaN();
    expect(Array.from(wide.dy)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });
});
