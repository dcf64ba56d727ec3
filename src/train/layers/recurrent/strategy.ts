/**
 * Which of the backward op's strategies (gpu/ops/backward.ts) a recurrent layer's training step runs:
 * forced (an error naming why when it cannot run the layer, or with a batch size and limits that
 * shape), or 'auto' — the first that can run it of persistent (one dispatch per layer, forward and
 * backward), fused (one per step), per-step (a few per step; before fused on software adapters). Each
 * recurrent layer of a model chooses for itself (an encoder and a decoder may differ).
 */
import type { RnnConfig } from '../../../config.js';
import { RnnError, describeValue } from '../../../errors.js';
import { BACKWARD_STRATEGIES, type BackwardStrategy, backwardUnfit } from '../../../gpu/ops/backward.js';

/**
 * On a software adapter past the persistent kernel, per-step before fused: its W_hhᵀ product is a
 * GEMM, where the fused kernel's matvec loads four gate gradients per multiply-add. Measured on
 * SwiftShader (Node, the big training shape: LSTM 512, B 64, T 64, forward + gradients in one
 * submission, alternating): 18.4 / 20.0 s per-step against 32.0 / 32.8 s fused.
 */
const SOFTWARE_ORDER = ['persistent', 'per-step'] as const;

export function chooseBackward(
  config: RnnConfig,
  strategy: BackwardStrategy | 'auto',
  B?: number,
  limits?: GPUSupportedLimits,
  software = false,
): BackwardStrategy {
  if (strategy === 'auto') {
    const order = software ? SOFTWARE_ORDER : (['persistent', 'fused', 'per-step'] as const);
    return order.find((s) => !backwardUnfit(s, config, B, limits))!;
  }
  if (!BACKWARD_STRATEGIES.includes(strategy))
    throw new RnnError(
      'OPTION_INVALID',
      `createTrainer options.strategy: expected "auto" or one of ${BACKWARD_STRATEGIES.map((x) => `"${x}"`).join(', ')}, got ${describeValue(strategy)}`,
    );
  const unfit = backwardUnfit(strategy, config, B, limits);
  if (unfit) throw new RnnError('OPTION_INVALID', `createTrainer options.strategy "${strategy}": ${unfit}`);
  return strategy;
}
