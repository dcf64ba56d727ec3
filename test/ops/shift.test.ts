// The shift op alone (recordShift, shaders/shift.wgsl): h_{t−1} and c_{t−1} as each step saw them,
// from a layer's output, its cell states and its initial state, against the CPU counterpart — both
// directions, LSTM and not, wider H or H_out, lengths below T (zeros past them); the targets poisoned.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.js';
import { contextFor, getDefaultDevice } from '../../src/gpu/device.js';
import { recordShift, shiftReference } from '../../src/gpu/ops/shift.js';
import { seededUniform } from '../../src/random.js';
import { OpHarness, values } from './harness.js';

let ctx: GpuContext;
let h: OpHarness;
beforeAll(async () => {
  ctx = await contextFor(await getDefaultDevice());
  h = new OpHarness(ctx);
});
afterAll(() => h.dispose());

describe('shift op', () => {
  it.each([
    { T: 1, B: 1, H: 1, Hout: 1, D: 1, lstm: false },
    { T: 3, B: 17, H: 3, Hout: 3, D: 2, lstm: true },
    { T: 17, B: 3, H: 5, Hout: 2, D: 2, lstm: true },
    { T: 4, B: 5, H: 17, Hout: 17, D: 1, lstm: false },
    // four k per invocation (H and H_out multiples of 4), projection's H_out < H as well
    { T: 3, B: 17, H: 8, Hout: 8, D: 2, lstm: true },
    { T: 5, B: 3, H: 12, Hout: 4, D: 2, lstm: true },
    { T: 17, B: 1, H: 4, Hout: 4, D: 1, lstm: false },
  ])('%j', async (s) => {
    const { T, B, H, Hout, D, lstm } = s;
    const next = seededUniform(T * 100 + B);
    const output = values(next, T * B * D * Hout);
    const c = lstm ? values(next, D * T * B * H) : undefined;
    const initial = values(next, D * B * (Hout + (lstm ? H : 0)));
    const lengths = Int32Array.from({ length: B }, (_, b) => (b % 2 ? T : 1 + Math.floor(next() * T)));
    // saved: [c_t | h_{t−1} | c_{t−1}], the last two poisoned.
    const hPrevAt = lstm ? D * T * B * H : 0;
    const cPrevAt = hPrevAt + D * T * B * Hout;
    const savedSize = cPrevAt + (lstm ? D * T * B * H : 0);
    const saved = new Float64Array(savedSize).fill(Number.NaN);
    if (c) saved.set(c, 0);
    const savedT = h.tensor(saved, [savedSize]);
    await h.run([
      recordShift(h, {
        label: 'shift',
        ...s,
        lengths: h.u32(lengths),
        output: h.tensor(output, [T * B, D * Hout]),
        initial: h.tensor(initial, [initial.length]),
        saved: savedT,
        at: { hPrev: hPrevAt, cPrev: cPrevAt, c: 0 },
      }),
    ]);
    const got = await h.read(savedT, savedSize);
    const f32 = (a: ArrayLike<number>) => Float32Array.from(a);
    const want = shiftReference(s, f32(output), c && f32(c), f32(initial), lengths);
    expect(Array.from(got.subarray(hPrevAt, hPrevAt + D * T * B * Hout))).toEqual(Array.from(f32(want.hPrev)));
    if (lstm) expect(Array.from(got.subarray(cPrevAt))).toEqual(Array.from(f32(want.cPrev!)));
  });
});
