/**
 * The losses, as PyTorch defines them (reduction 'mean'), in float64, with their gradient:
 *   mse            mean over all elements of (y − target)²;
 *   cross_entropy  mean over the positions whose target is not −100 (ignore_index) of
 *                  −log softmax(y)[target], softmax taken stably (max subtracted). With no position
 *                  left the mean is 0/0 = NaN, as in PyTorch.
 */
import { IGNORE_INDEX } from '../train/batch.js';
import type { LossName } from '../train/config.js';

/** Loss of outputs `y` (rows × O) against `target`, and dL/dy. */
export function lossAndGradient(loss: LossName, y: Float64Array, target: Float64Array | Int32Array, O: number): { loss: number; dy: Float64Array } {
  const dy = new Float64Array(y.length);
  if (loss === 'mse') {
    let sum = 0;
    const n = y.length;
    for (let i = 0; i < n; i++) {
      const e = y[i] - target[i];
      sum += e * e;
      dy[i] = (2 * e) / n;
    }
    return { loss: sum / n, dy };
  }
  const rows = y.length / O;
  let counted = 0;
  for (let r = 0; r < rows; r++) if (target[r] !== IGNORE_INDEX) counted++;
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    if (target[r] === IGNORE_INDEX) continue;
    let max = Number.NEGATIVE_INFINITY;
    for (let o = 0; o < O; o++) max = Math.max(max, y[r * O + o]);
    let z = 0;
    for (let o = 0; o < O; o++) z += Math.exp(y[r * O + o] - max);
    const logZ = Math.log(z) + max;
    sum += logZ - y[r * O + target[r]];
    for (let o = 0; o < O; o++) dy[r * O + o] = (Math.exp(y[r * O + o] - logZ) - (o === target[r] ? 1 : 0)) / counted;
  }
  return { loss: sum / counted, dy };
}
