/**
 * Named tolerances and failure messages that show what went wrong. A comparison passes when both hold:
 *  - the relative error ‖a − b‖ / ‖b‖ over the whole tensor is within `rtol`;
 *  - every element is within `atol + 10·rtol·|b|`, where atol = rtol·max|b|: a norm alone can hide an
 *    error confined to a few elements (an edge tile, the last row), which this catches.
 * NaN / ±Inf anywhere in `a` fails. A failure names
 * the worst element, its index and the first few pairs.
 *
 * Every check made here is counted (checksMade), so a runner can tell a case that compared nothing.
 */
import { relativeError } from '../../src/relative-error.js';
import type { Tensor } from '../../src/tensor.js';

// ‖a − b‖ / ‖b‖, NaN when `a` has a non-finite element (the absolute error for an all-zero truth):
// the benchmark's measure, shared.
export { relativeError };

/** f32 GPU vs float64 truth (the bound; f32 lands near 1e-6). */
export const GPU_RTOL = 1e-4;
/** float64 CPU reference vs float64 PyTorch. */
export const CPU_RTOL = 1e-9;

let checks = 0;

/** How many checks (expectClose, expectThat) have passed so far. */
export function checksMade(): number {
  return checks;
}

/** A counted check of a condition that is not a tensor comparison. */
export function expectThat(ok: boolean, message: string | (() => string)): asserts ok {
  if (!ok) throw new Error(typeof message === 'string' ? message : message());
  checks++;
}

/** Throws with a readable report unless `actual` matches `expected` (shape and values) within rtol; returns ‖a−b‖/‖b‖. */
export function expectClose(name: string, actual: Tensor | undefined, expected: Tensor, rtol: number): number {
  if (!actual) throw new Error(`${name}: missing`);
  if (actual.shape.join() !== expected.shape.join()) {
    throw new Error(`${name}: shape [${actual.shape}] != expected [${expected.shape}]`);
  }
  const err = relativeError(actual.data, expected.data);
  let scale = 0;
  for (const v of expected.data) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
  const atol = rtol * scale;
  let worst = 0;
  let worstIndex = 0;
  let worstExcess = 0;
  let nonFinite = 0;
  for (let i = 0; i < expected.data.length; i++) {
    const [a, b] = [actual.data[i], expected.data[i]];
    if (!Number.isFinite(a)) nonFinite++;
    const d = Number.isFinite(a) ? Math.abs(a - b) : Number.POSITIVE_INFINITY;
    const excess = d - (atol + 10 * rtol * Math.abs(b));
    if (d > worst) [worst, worstIndex] = [d, i];
    if (excess > worstExcess) worstExcess = excess;
  }
  if (err <= rtol && worstExcess <= 0 && nonFinite === 0) {
    checks++;
    return err;
  }
  const pairs = Array.from({ length: Math.min(6, expected.data.length) }, (_, i) => `${actual.data[i]} vs ${expected.data[i]}`);
  const why =
    err > rtol || Number.isNaN(err)
      ? `relative error ${err} > ${rtol}`
      : `relative error ${err.toExponential(2)} within ${rtol}, but an element is off by more than atol ${atol.toExponential(2)} + ${10 * rtol}·|b|`;
  throw new Error(
    `${name}: ${why}; ${nonFinite} non-finite of ${expected.data.length}; ` +
      `worst |Δ| = ${worst} at flat index ${worstIndex} (${actual.data[worstIndex]} vs ${expected.data[worstIndex]}); first: ${pairs.join(', ')}`,
  );
}
