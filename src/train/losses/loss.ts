/**
 * What a loss is to the trainer: the kind of target it takes, the entry point of shaders/loss.wgsl
 * that computes it on the GPU (test/ops/loss.test.ts checks every entry against its reference), the
 * mean's 1/N for a batch, and its float64 reference with dL/dy. Adding one is a file here, its entry
 * in index.ts and its entry point in the shader.
 */

/** PyTorch's default ignore_index: class targets equal to it take no part in the loss. */
export const IGNORE_INDEX = -100;

export interface LossDefinition {
  readonly name: string;
  /** 'classes': one class id per row (I32 / I64; IGNORE_INDEX ignored); 'values': floats shaped like the output. */
  readonly targets: 'classes' | 'values';
  /** The entry point in shaders/loss.wgsl. */
  readonly entryPoint: string;
  /** The mean's 1/N for these targets (rows × O outputs): Infinity when nothing counts (0/0 = NaN, as PyTorch). */
  scale(target: ArrayLike<number>, O: number): number;
  /** The loss of outputs y (rows × O) against `target`, and dL/dy, in float64. */
  reference(y: ArrayLike<number>, target: ArrayLike<number>, O: number): { loss: number; dy: Float64Array };
}
