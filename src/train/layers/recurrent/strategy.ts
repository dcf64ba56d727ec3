/**
 * Which of the backward op's strategies (gpu/ops/backward.ts) a recurrent layer's training step runs:
 * forced (an error naming why when it cannot run the layer, or with a batch size and limits that
 * shape), or 'auto' — the first that can run it of persistent (one dispatch per layer, forward and
 * backward), fused (one per step), per-step. Each recurrent layer of a model chooses for itself (an
 * encoder and a decoder may differ).
 */
import type { RnnConfig } from '../../../config.js';
import { RnnError, describeValue } from '../../../errors.js';
import { BACKWARD_STRATEGIES, type BackwardStrategy, backwardUnfit } from '../../../gpu/ops/backward.js';

export function chooseBackward(config: RnnConfig, strategy: BackwardStrategy | 'auto', B?: number, limits?: GPUSupportedLimits): BackwardStrategy {
  if (strategy === 'auto') return (['persistent', 'fused', 'per-step'] as const).find((s) => !backwardUnfit(s, config, B, limits))!;
  if (!BACKWARD_STRATEGIES.includes(strategy))
    throw new RnnError(
      'OPTION_INVALID',
      `createTrainer options.strategy: expected "auto" or one of ${BACKWARD_STRATEGIES.map((x) => `"${x}"`).join(', ')}, got ${describeValue(strategy)}`,
    );
  const unfit = backwardUnfit(strategy, config, B, limits);
  if (unfit) throw new RnnError('OPTION_INVALID', `createTrainer options.strategy "${strategy}": ${unfit}`);
  return strategy;
}
