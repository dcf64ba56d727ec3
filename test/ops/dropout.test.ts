// The dropout op alone (recordDropout, shaders/dropout.wgsl) against its CPU counterpart at sizes that
// are not multiples of the workgroup: the same mask (the counter-based generator of
// src/reference/rng.ts), the survivors scaled by 1/(1 − p); a new seed, another mask; a stream, another;
// evaluation drops nothing; about p of the elements dropped. With `fill`, the mask's scales themselves
// (recurrent dropout's mask over h_{t−1}): src/reference/rng.ts's recurrentMask, whatever was there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.js';
import { contextFor, getDefaultDevice } from '../../src/gpu/device.js';
import { dropoutReference, recordDropout } from '../../src/gpu/ops/dropout.js';
import { seededUniform } from '../../src/random.js';
import { recurrentMask } from '../../src/reference/rng.js';
import { OpHarness, values } from './harness.js';

let ctx: GpuContext;
let h: OpHarness;
beforeAll(async () => {
  ctx = await contextFor(await getDefaultDevice());
  h = new OpHarness(ctx);
});
afterAll(() => h.dispose());

async function gpuDropout(x: Float64Array, seed: number, stream: number, p: number, training: boolean, fill = false): Promise<Float32Array> {
  const t = h.tensor(x, [x.length]);
  const op = recordDropout(h, { label: 'dropout', tensor: t, n: x.length, stream, p, fill });
  op.set(ctx.device.queue, seed, training);
  await h.run([op.command]);
  return h.read(t, x.length);
}

describe('dropout op', () => {
  it.each([1, 3, 17, 257, 4097])("n = %i: the CPU counterpart's mask and scale", async (n) => {
    const x = values(seededUniform(n), n);
    for (const [seed, stream, p] of [
      [7, 0, 0.3],
      [8, 2, 0.5],
      [7, 1, 0.9],
    ] as const) {
      const got = await gpuDropout(x, seed, stream, p, true);
      const want = dropoutReference(Float32Array.from(x), seed, stream, p);
      for (let i = 0; i < n; i++) expect(Math.abs(got[i] - want[i]), `element ${i}`).toBeLessThanOrEqual(1e-6 * Math.abs(want[i]));
    }
    expect(Array.from(await gpuDropout(x, 7, 0, 0.3, false))).toEqual(Array.from(Float32Array.from(x)));
  });

  it('drops about p of a large tensor; seeds and streams give other masks', async () => {
    const n = 100_003;
    const x = new Float64Array(n).fill(1);
    const a = await gpuDropout(x, 1, 0, 0.25, true);
    const dropped = a.filter((v) => v === 0).length / n;
    expect(Math.abs(dropped - 0.25)).toBeLessThan(0.01);
    const b = await gpuDropout(x, 2, 0, 0.25, true);
    const c = await gpuDropout(x, 1, 1, 0.25, true);
    const differ = (u: Float32Array, v: Float32Array) => u.filter((w, i) => (w === 0) !== (v[i] === 0)).length / n;
    expect(differ(a, b)).toBeGreaterThan(0.3);
    expect(differ(a, c)).toBeGreaterThan(0.3);
    expect(a.every((v) => v === 0 || Math.abs(v - 1 / 0.75) < 1e-6)).toBe(true);
  });

  it.each([1, 3, 17, 257])('fill, n = %i: the scales of recurrentMask, over poison; evaluation fills ones', async (n) => {
    const poison = new Float64Array(n).fill(Number.NaN);
    const got = await gpuDropout(poison, 4, 0x10003, 0.4, true, true);
    // recurrentMask lays out (D, B, H_out); one direction and one row of n units is the same stream.
    const want = recurrentMask(4, 0x10003, 1, 1, n, 0.4);
    for (let i = 0; i < n; i++) expect(Math.abs(got[i] - want[i]), `element ${i}`).toBeLessThanOrEqual(1e-7 * want[i]);
    expect(Array.from(await gpuDropout(poison, 4, 0x10003, 0.4, false, true))).toEqual(new Array(n).fill(1));
  });
});
