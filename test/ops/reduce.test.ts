// The sum op alone (recordSum, shaders/reduce.wgsl): plain and squared-with-clip sums of fresh random
// values at sizes that are not multiples of the workgroup or the partial count (1, 3, 17, 257, 4097,
// 65537, 1,000,003; and 4 and 65,540), from offsets into the buffer (0 and 4 for the vec4 first pass),
// against the float64 sum; the same bits on a second run (a fixed order, no atomics); NaN propagates.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.js';
import { contextFor, getDefaultDevice } from '../../src/gpu/device.js';
import { gpuTensor } from '../../src/gpu/gpu-tensor.js';
import { recordSum } from '../../src/gpu/ops/reduce.js';
import { REDUCE_DIMS_FIELDS, packU32Struct } from '../../src/gpu/uniforms.js';
import { seededUniform } from '../../src/random.js';
import { OpHarness } from './harness.js';

let ctx: GpuContext;
let h: OpHarness;
beforeAll(async () => {
  ctx = await contextFor(await getDefaultDevice());
  h = new OpHarness(ctx);
});
afterAll(() => h.dispose());

async function gpuSum(values: Float32Array, offset: number, square: boolean, clip: number): Promise<number> {
  const t = h.tensor(values, [values.length], 'f32', offset);
  const out = h.storage('sum.out', 4);
  const dims = square ? h.uniform('sum.dims', packU32Struct(REDUCE_DIMS_FIELDS, { n: values.length, offset, out: 0, clip })) : undefined;
  await h.run(recordSum(h, 'sum', t, values.length, square, out, 2, dims));
  return (await h.read(gpuTensor(out, [4]), 4))[2];
}

describe('sum op', () => {
  it.each([1, 3, 4, 17, 257, 4097, 65537, 65540, 1_000_003])('n = %i: plain and squared-clipped sums match float64, and repeat bit for bit', async (n) => {
    const next = seededUniform(n);
    const values = Float32Array.from({ length: n }, () => 4 * next() - 2);
    const plain = values.reduce((a, v) => a + v, 0);
    const clip = 1.5;
    const squared = values.reduce((a, v) => a + Math.min(clip, Math.max(-clip, v)) ** 2, 0);
    // Offset 5: the scalar first pass; 0 and 4: the vec4 one (and its tail of n mod 4 values).
    for (const offset of [5, 0, 4]) {
      const got = await gpuSum(values, offset, false, 0);
      // f32 partial sums of n uniform values: error grows like √n·ε·max|v|, relative to the sum's size.
      expect(Math.abs(got - plain), `offset ${offset}`).toBeLessThan(1e-5 * Math.sqrt(n) * 2 + 1e-6 * Math.abs(plain));
      const sq = await gpuSum(values, offset, true, clip);
      expect(Math.abs(sq - squared) / squared, `offset ${offset}`).toBeLessThan(1e-5);
      expect(await gpuSum(values, offset, true, clip)).toBe(sq);
    }
  });

  it('a NaN anywhere makes the sum NaN', async () => {
    const values = new Float32Array(3000).fill(1);
    values[2717] = Number.NaN;
    for (const offset of [0, 5]) {
      expect(await gpuSum(values, offset, false, 0)).toBeNaN();
      expect(await gpuSum(values, offset, true, 0)).toBeNaN();
    }
  });
});
