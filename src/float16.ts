/**
 * IEEE 754 binary16 ("half") conversions on the host: decoding F16 tensors, and encoding weights for
 * the half-precision GPU path. Node 20 has neither Float16Array nor Math.f16round, so both ways are
 * written out here.
 */

/** binary16 bits → its value (every binary16 value is exact in float32 and float64). */
export function float16ToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // zero and subnormals: no implicit leading 1
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1024 + fraction) * 2 ** (exponent - 25);
}

/** Rounds to the nearest integer, ties to even (IEEE's default rounding). */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const rest = x - floor;
  if (rest !== 0.5) return rest < 0.5 ? floor : floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * A number → the nearest binary16, as bits (round to nearest, ties to even, straight from the
 * float64 value, so there is no double rounding through float32). Past the largest half (65504) it
 * rounds to ±Infinity as IEEE does (from 65520 up); NaN stays NaN; −0 keeps its sign.
 */
export function toFloat16Bits(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const a = Math.abs(value);
  if (a >= 65520) return sign | 0x7c00;
  // Subnormal range: multiples of 2^-24. A value that rounds up to 1024·2^-24 = 2^-14 gives the bits
  // of the smallest normal, 0x0400, by the same formula.
  if (a < 2 ** -14) return sign | roundHalfEven(a * 2 ** 24);
  let exponent = Math.floor(Math.log2(a));
  if (2 ** exponent > a)
    exponent--; // log2 may be off by one near powers of two
  else if (2 ** (exponent + 1) <= a) exponent++;
  // Significand with 10 fraction bits, in [1024, 2048]; 2048 carries into the exponent field below.
  const significand = roundHalfEven((a / 2 ** exponent) * 1024);
  return sign | (((exponent + 15) << 10) + significand - 1024);
}

/** The value `value` has once stored as binary16 (what the GPU reads back from an f16 weight). */
export function roundToFloat16(value: number): number {
  return float16ToNumber(toFloat16Bits(value));
}

/** Encodes an array as binary16 bits. */
export function toFloat16Array(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = toFloat16Bits(values[i]);
  return out;
}
