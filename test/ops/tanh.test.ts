// tanh alone (recordTanh / recordTanhBackward, shaders/tanh.wgsl), in place, against Math.tanh in float64
// at awkward sizes: from offsets that are not multiples of 4 (the scalar entries) and from offsets that
// are (the `_vec4` entries where n is a multiple of 4: several vec4s per invocation on a software
// adapter, one as a GPU context records them). The floats around the values are poisoned and must stay so.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.js';
import { contextFor, getDefaultDevice } from '../../src/gpu/device.js';
import { recordTanh, recordTanhBackward, tanhVectors } from '../../src/gpu/ops/tanh.js';
import { seededUniform } from '../../src/random.js';
import { tensor } from '../../src/tensor.js';
import { GPU_RTOL, expectClose } from '../support/compare.js';
import { OpHarness, values, variantContext } from './harness.js';

let ctx: GpuContext;
let h: OpHarness;
beforeAll(async () => {
  ctx = await contextFor(await getDefaultDevice());
  h = new OpHarness(ctx);
});
afterAll(() => h.dispose());

const SIZES = [1, 3, 17, 257, 4, 8, 68, 1028, 4096];

async function forwardAndBackward(c: GpuContext, oh: OpHarness, n: number, at: { y: number; g: number }) {
  const next = seededUniform(n + at.y);
  const x = Float64Array.from(values(next, n), (v) => 4 * v);
  const dy = values(next, n);
  const padded = (v: Float64Array, offset: number) => {
    const all = new Float64Array(offset + n + 3).fill(Number.NaN);
    all.set(v, offset);
    return oh.tensor(all, [all.length]);
  };
  const yBuf = padded(x, at.y);
  const y = { ...yBuf, offset: at.y, shape: [n] };
  expect(tanhVectors(c, n, [at.y]) > 0, 'the vec4 entry').toBe(n % 4 === 0 && at.y % 4 === 0);
  await oh.run([recordTanh(oh, 'tanh', y, n)]);
  const yAll = await oh.read(yBuf, at.y + n + 3);
  const yWant = x.map(Math.tanh);
  expectClose('tanh', tensor([n], yAll.subarray(at.y, at.y + n)), tensor([n], yWant), GPU_RTOL);
  for (const i of [...Array(at.y).keys(), at.y + n, at.y + n + 1, at.y + n + 2]) expect(yAll[i], `y buffer [${i}] left as it was`).toBeNaN();

  const gBuf = padded(dy, at.g);
  const g = { ...gBuf, offset: at.g, shape: [n] };
  await oh.run([recordTanhBackward(oh, 'tanh.back', y, g, n)]);
  const gAll = await oh.read(gBuf, at.g + n + 3);
  expectClose(
    'tanh backward',
    tensor([n], gAll.subarray(at.g, at.g + n)),
    tensor(
      [n],
      dy.map((d, i) => d * (1 - yWant[i] ** 2)),
    ),
    GPU_RTOL,
  );
  for (const i of [...Array(at.g).keys(), at.g + n, at.g + n + 1, at.g + n + 2]) expect(gAll[i], `dx buffer [${i}] left as it was`).toBeNaN();
}

describe('tanh op', () => {
  it.each(SIZES)('n = %i from offsets 5 and 3', (n) => forwardAndBackward(ctx, h, n, { y: 5, g: 3 }));
  it.each(SIZES)('n = %i from offsets 4 and 8', (n) => forwardAndBackward(ctx, h, n, { y: 4, g: 8 }));
  it.each(SIZES)('n = %i from offsets 0', (n) => forwardAndBackward(ctx, h, n, { y: 0, g: 0 }));
});

describe('tanh op as a GPU context records it (one vec4 per invocation)', () => {
  const gpuLike = variantContext('gpu-layouts');
  it.each(SIZES.filter((n) => n % 4 === 0))('n = %i from offsets 4 and 8', (n) => forwardAndBackward(gpuLike.ctx, gpuLike.harness, n, { y: 4, g: 8 }));
});
