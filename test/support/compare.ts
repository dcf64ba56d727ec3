/**
 * Named, relative tolerances and failure messages that show what went wrong: the relative error
 * ‖a − b‖ / ‖b‖ over the whole tensor, NaN / ±Inf anywhere fails, and a failure names the worst
 * element, its index and the first few pairs.
 */
import { relativeError } from '../../src/bench/relative-error.js';
import type { Tensor } from '../../src/tensor.js';

// ‖a − b‖ / ‖b‖, NaN when `a` has a non-finite element (the absolute error for an all-zero truth):
// the benchmark's measure, shared.
export { relativeError };

/** f32 GPU vs float64 truth (the bound; f32 lands near 1e-6). */
export const GPU_RTOL = 1e-4;
/** float64 CPU reference vs float64 PyTorch. */
export const CPU_RTOL = 1e-9;

/** Throws with a readable report unless `actual` matches `expected` (shape and values) within rtol. */
export function expectClose(name: string, actual: Tensor | undefined, expected: Tensor, rtol: number): number {
  if (!actual) throw new Error(`${name}: missing`);
  if (actual.shape.join() !== expected.shape.join()) {
    throw new Error(`${name}: shape [${actual.shape}] != expected [${expected.shape}]`);
  }
  const err = relativeError(actual.data, expected.data);
  if (err <= rtol) return err;
  let worst = 0;
  let worstIndex = 0;
  let nonFinite = 0;
  for (let i = 0; i < expected.data.length; i++) {
    const a = actual.data[i];
    if (!Number.isFinite(a)) nonFinite++;
    const d = Number.isFinite(a) ? Math.abs(a - expected.data[i]) : Number.POSITIVE_INFINITY;
    if (d > worst) [worst, worstIndex] = [d, i];
  }
  const pairs = Array.from({ length: Math.min(6, expected.data.length) }, (_, i) => `${actual.data[i]} vs ${expected.data[i]}`);
  throw new Error(
    `${name}: relative error ${err} > ${rtol}; ${nonFinite} non-finite of ${expected.data.length}; ` +
      `worst |Δ| = ${worst} at flat index ${worstIndex} (${actual.data[worstIndex]} vs ${expected.data[worstIndex]}); first: ${pairs.join(', ')}`,
  );
}
