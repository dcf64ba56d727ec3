// binary16 encoding (the f16 weight path) against its decoder and hand-worked values.
import { describe, expect, it } from 'vitest';
import { float16ToNumber, roundToFloat16, toFloat16Array, toFloat16Bits } from '../src/float16.js';

describe('binary16 encoding', () => {
  it('round-trips every finite half and both infinities exactly', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const exponent = (bits >> 10) & 0x1f;
      if (exponent === 0x1f && (bits & 0x3ff) !== 0) continue; // NaN payloads are not kept
      const encoded = toFloat16Bits(float16ToNumber(bits));
      if (encoded !== bits) throw new Error(`bits 0x${bits.toString(16)} → ${float16ToNumber(bits)} → 0x${encoded.toString(16)}`);
    }
  });

  it('rounds to nearest, ties to even, at every exponent', () => {
    // Between each pair of adjacent positive halves: just below, at and just above the midpoint.
    for (let bits = 0; bits < 0x7bff; bits++) {
      const lo = float16ToNumber(bits);
      const hi = float16ToNumber(bits + 1);
      const mid = (lo + hi) / 2;
      const tie = bits % 2 === 0 ? bits : bits + 1;
      const below = toFloat16Bits(mid - (hi - lo) / 1024);
      const at = toFloat16Bits(mid);
      const above = toFloat16Bits(mid + (hi - lo) / 1024);
      if (below !== bits || at !== tie || above !== bits + 1) {
        throw new Error(`between 0x${bits.toString(16)} and 0x${(bits + 1).toString(16)}: got ${below}, ${at}, ${above}`);
      }
    }
  });

  it('handles signs, overflow, underflow and NaN', () => {
    expect(toFloat16Bits(1)).toBe(0x3c00);
    expect(toFloat16Bits(-2.5)).toBe(0xc100);
    expect(toFloat16Bits(-0)).toBe(0x8000);
    expect(toFloat16Bits(65504)).toBe(0x7bff);
    expect(toFloat16Bits(65519.99)).toBe(0x7bff);
    expect(toFloat16Bits(65520)).toBe(0x7c00); // the tie with 65536 rounds to even: infinity
    expect(toFloat16Bits(-1e9)).toBe(0xfc00);
    expect(toFloat16Bits(Infinity)).toBe(0x7c00);
    expect(toFloat16Bits(2 ** -25)).toBe(0x0000); // half the smallest subnormal: tie to even zero
    expect(toFloat16Bits(2 ** -25 * 1.0001)).toBe(0x0001);
    expect(toFloat16Bits(2 ** -14 - 2 ** -26)).toBe(0x0400); // rounds up into the normals
    expect(Number.isNaN(float16ToNumber(toFloat16Bits(NaN)))).toBe(true);
    // 0.1 is not a half: the nearest is 0x2e66 = 0.0999755859375.
    expect(toFloat16Bits(0.1)).toBe(0x2e66);
    expect(roundToFloat16(0.1)).toBe(0.0999755859375);
    expect([...toFloat16Array([1, -2.5, 0.1])]).toEqual([0x3c00, 0xc100, 0x2e66]);
  });
});
