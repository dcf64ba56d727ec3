// cat(h_n[−D:]) alone (recordGatherLast / recordScatterLast, shaders/last-state.wgsl): the final state's
// (D, B, H_out) as (B, D·H_out) features and back, each at an offset into its buffer, one direction
// (a copy) and two (the kernel), against the CPU counterpart; the targets poisoned.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.js';
import { contextFor, getDefaultDevice } from '../../src/gpu/device.js';
import { gatherLastReference, recordGatherLast, recordScatterLast } from '../../src/gpu/ops/last-state.js';
import { seededUniform } from '../../src/random.js';
import { OpHarness, values } from './harness.js';

let ctx: GpuContext;
let h: OpHarness;
beforeAll(async () => {
  ctx = await contextFor(await getDefaultDevice());
  h = new OpHarness(ctx);
});
afterAll(() => h.dispose());

describe('last-state ops', () => {
  it.each([
    [1, 1, 1],
    [2, 3, 17],
    [2, 17, 3],
    [1, 257, 5],
    [2, 1, 257],
  ])('D = %i, B = %i, H_out = %i: gather, then scatter back', async (D, B, Hout) => {
    const n = D * B * Hout;
    const state = values(seededUniform(n + D), n);
    const offset = 12; // the state inside a bigger buffer
    const stateT = h.tensor(state, [n], 'f32', offset);
    // The features inside a bigger buffer too (a bridge writes one layer's part of a decoder's state).
    const features = h.tensor(new Float64Array(n).fill(Number.NaN), [B, D * Hout], 'f32', 5);
    await h.run([recordGatherLast(h, { label: 'gather', B, Hout, D, state: stateT, features })]);
    const got = await h.read(features, n);
    expect(Array.from(got)).toEqual(Array.from(Float32Array.from(gatherLastReference(Float32Array.from(state), B, Hout, D))));
    const back = h.tensor(new Float64Array(n).fill(Number.NaN), [n], 'f32', offset);
    await h.run([recordScatterLast(h, { label: 'scatter', B, Hout, D, state: back, features })]);
    expect(Array.from(await h.read(back, n))).toEqual(Array.from(Float32Array.from(state)));
  });
});
