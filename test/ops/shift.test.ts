// The shift op alone (recordShift, shaders/shift.wgsl): h_{t−1} and c_{t−1} as each step saw them,
// from a layer's output, its cell states and its initial state, against the CPU counterpart — both
// directions, LSTM and not, wider H or H_out, lengths below T (zeros past them), with recurrent
// dropout's scaled copy; the targets poisoned. The vec4 entry at aligned offsets, the scalar one off them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.js';
import { contextFor, getDefaultDevice } from '../../src/gpu/device.js';
import { recordShift, shiftReference, shiftVectors } from '../../src/gpu/ops/shift.js';
import { seededUniform } from '../../src/random.js';
import { OpHarness, values, variantContext } from './harness.js';

let ctx: GpuContext;
let h: OpHarness;
beforeAll(async () => {
  ctx = await contextFor(await getDefaultDevice());
  h = new OpHarness(ctx);
});
afterAll(() => h.dispose());

type ShiftCase = { T: number; B: number; H: number; Hout: number; D: number; lstm: boolean; masked?: boolean };

// `pad` floats before the saved rows: 1 takes the offsets off multiples of 4 (the scalar entry).
async function shift(c: GpuContext, oh: OpHarness, s: ShiftCase, pad: number) {
  const { T, B, H, Hout, D, lstm, masked } = s;
  const next = seededUniform(T * 100 + B);
  const output = values(next, T * B * D * Hout);
  const cs = lstm ? values(next, D * T * B * H) : undefined;
  const initial = values(next, D * B * (Hout + (lstm ? H : 0)));
  const scales = masked ? values(next, D * B * Hout) : undefined;
  const lengths = Int32Array.from({ length: B }, (_, b) => (b % 2 ? T : 1 + Math.floor(next() * T)));
  // saved: [pad | c_t | mask | h_{t−1} | c_{t−1} | scaled h_{t−1}], the last three poisoned.
  const cAt = pad;
  const maskAt = cAt + (lstm ? D * T * B * H : 0);
  const hPrevAt = maskAt + (masked ? D * B * Hout : 0);
  const cPrevAt = hPrevAt + D * T * B * Hout;
  const maskedAt = cPrevAt + (lstm ? D * T * B * H : 0);
  const savedSize = maskedAt + (masked ? D * T * B * Hout : 0);
  const saved = new Float64Array(savedSize).fill(Number.NaN);
  if (cs) saved.set(cs, cAt);
  if (scales) saved.set(scales, maskAt);
  const savedT = oh.tensor(saved, [savedSize]);
  const at = { hPrev: hPrevAt, cPrev: cPrevAt, c: cAt, ...(masked ? { mask: maskAt, hPrevMasked: maskedAt } : {}) };
  expect(shiftVectors(c, { H, Hout, at }) > 0, 'the vec4 entry').toBe(pad % 4 === 0 && H % 4 === 0 && Hout % 4 === 0);
  await oh.run([
    recordShift(oh, {
      label: 'shift',
      T,
      B,
      H,
      Hout,
      D,
      lstm,
      lengths: oh.u32(lengths),
      output: oh.tensor(output, [T * B, D * Hout]),
      initial: oh.tensor(initial, [initial.length]),
      saved: savedT,
      at,
    }),
  ]);
  const got = await oh.read(savedT, savedSize);
  const f32 = (a: ArrayLike<number>) => Float32Array.from(a);
  const want = shiftReference(s, f32(output), cs && f32(cs), f32(initial), lengths);
  const hPrev = f32(want.hPrev);
  expect(Array.from(got.subarray(hPrevAt, cPrevAt))).toEqual(Array.from(hPrev));
  if (lstm) expect(Array.from(got.subarray(cPrevAt, maskedAt))).toEqual(Array.from(f32(want.cPrev!)));
  if (scales) {
    // scale · h_{t−1}: the scales (D, B, H_out) broadcast over t
    const scaled = hPrev.map((v, i) => {
      const k = i % Hout;
      const b = Math.floor(i / Hout) % B;
      const d = Math.floor(i / (Hout * B * T));
      return v * Math.fround(scales[(d * B + b) * Hout + k]);
    });
    expect(Array.from(got.subarray(maskedAt))).toEqual(Array.from(scaled));
  }
}

const CASES: ShiftCase[] = [
  { T: 1, B: 1, H: 1, Hout: 1, D: 1, lstm: false },
  { T: 3, B: 17, H: 3, Hout: 3, D: 2, lstm: true },
  { T: 17, B: 3, H: 5, Hout: 2, D: 2, lstm: true },
  { T: 4, B: 5, H: 17, Hout: 17, D: 1, lstm: false, masked: true },
  // widths multiples of 4: 1, 2, 4 and 16 vec4s per row; the projection's H_out < H as well
  { T: 3, B: 17, H: 8, Hout: 8, D: 2, lstm: true },
  { T: 5, B: 3, H: 12, Hout: 4, D: 2, lstm: true, masked: true },
  { T: 17, B: 1, H: 4, Hout: 4, D: 1, lstm: false },
  { T: 3, B: 5, H: 64, Hout: 64, D: 2, lstm: true, masked: true },
  { T: 4, B: 3, H: 64, Hout: 16, D: 1, lstm: true },
  { T: 2, B: 3, H: 16, Hout: 32, D: 2, lstm: false },
];

describe('shift op', () => {
  it.each(CASES)('%j', (s) => shift(ctx, h, s, 0));
  it.each(CASES.filter((s) => s.H % 4 === 0 && s.Hout % 4 === 0))('%j, offsets not multiples of 4', (s) => shift(ctx, h, s, 1));
});

describe('shift op as a GPU context records it (one vec4 per invocation)', () => {
  const gpuLike = variantContext('gpu-layouts');
  it.each(CASES.filter((s) => s.H % 4 === 0 && s.Hout % 4 === 0))('%j', (s) => shift(gpuLike.ctx, gpuLike.harness, s, 0));
});
