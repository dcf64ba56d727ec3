/**
 * Which of the backward op's strategies (gpu/ops/backward.ts) a recurrent layer's training step runs:
 * forced (an error naming why when it cannot run the layer, or with a batch size and limits that
 * shape), or 'auto' — the first that can run it of persistent (one dispatch per layer, forward and
 * backward), fused (one per step), per-step (a few per step; before fused on software adapters). Each
 * recurrent layer of a model chooses for itself (an encoder and a decoder may differ). On a software
 * adapter, a batch big enough for the GEMM's wide tile takes per-step first (softwarePrefersPerStep).
 */
import type { RnnConfig } from '../../../config.js';
import { RnnError, describeValue } from '../../../errors.js';
import { BACKWARD_STRATEGIES, type BackwardStrategy, backwardUnfit } from '../../../gpu/ops/backward.js';
import { SOFTWARE_WIDE_STEP_MIN_FLOP, recurrentStepFlop } from '../../../gpu/strategy.js';

/**
 * On a software adapter past the persistent kernel, per-step before fused: its W_hhᵀ product is a
 * GEMM, where the fused kernel's matvec loads four gate gradients per multiply-add. Measured on
 * SwiftShader (Node, the big training shape: LSTM 512, B 64, T 64, forward + gradients in one
 * submission, alternating): 18.4 / 20.0 s per-step against 32.0 / 32.8 s fused.
 */
const SOFTWARE_ORDER = ['persistent', 'per-step'] as const;

/**
 * The batch rows (per direction) and the recurrent FLOPs of one step (2·D·B·H_out·4H) from which a
 * software adapter trains a layer per-step rather than in the persistent loops: the step's W_hh products
 * are then GEMMs on the wide tile (at least 16 rows: two groups of 8), which runs at about three times
 * the rate of the loops' blocked products (each W_hh load there serves at most 8 rows). Measured in
 * Chromium (SwiftShader, 2 cores, the two trainers' steps interleaved, medians of 7–9 rounds),
 * persistent / per-step ms:
 *   past both: the date model (LSTM 64 encoder and decoder) at B 32 61.2 / 51.1, B 64 96.3 / 78.9, B 128
 *   265.1 / 187.0, its page's B 64 with sources of 29 174.4 / 140.8; the char-LM (2×LSTM 128, T 50) at
 *   B 16 435.3 / 357.9, B 32 949.1 / 715.9; GRU 64 (T 64) at B 32 137.7 / 120.7; LSTM 64 (T 200) at
 *   B 32 474.2 / 438.2; the Bahdanau model's GRU 256 encoder (B 64) 7,324 / 6,660;
 *   short of one or both: the char-LM at B 8 (1 MFLOP) 170.2 / 166.9; GRU 64 at B 8, 16, 24 38.5 / 40.1,
 *   72.3 / 74.0, 106.5 / 102.0; LSTM 64 (T 200) at B 8 and 16 131.4 / 149.2, 187.3 / 184.9, (T 1,000) at
 *   B 1 146.6 / 235.7; the date model at B 16 40.6 / 37.5.
 * The FLOP bound is the inference rule's (SOFTWARE_WIDE_STEP_MIN_FLOP, 1 MFLOP: the same wide step
 * kernel against the same loops); the rows are training's own.
 */
export const SOFTWARE_PER_STEP_MIN_ROWS = 16;

/** Whether a software adapter trains `config` at batch size B per-step before persistent (see above). */
export function softwarePrefersPerStep(config: RnnConfig, B: number): boolean {
  return B >= SOFTWARE_PER_STEP_MIN_ROWS && recurrentStepFlop(config, B) >= SOFTWARE_WIDE_STEP_MIN_FLOP;
}

export function chooseBackward(
  config: RnnConfig,
  strategy: BackwardStrategy | 'auto',
  B?: number,
  limits?: GPUSupportedLimits,
  software = false,
): BackwardStrategy {
  if (strategy === 'auto') {
    if (software && B !== undefined && softwarePrefersPerStep(config, B)) return 'per-step';
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
