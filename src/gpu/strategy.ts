/**
 * Which recurrent strategy a call shape runs:
 *  - 'per-step':   1 matmul + T step dispatches per layer; any shape; spreads each step over many
 *                  workgroups (all cores of a software adapter, all multiprocessors of a GPU).
 *  - 'persistent': 1 matmul (input projection of all steps, parallel) + 1 dispatch running the whole
 *                  time loop, per layer: one workgroup per direction and block of batch rows (they are
 *                  independent sequences), each keeping its rows' h in workgroup memory. It removes
 *                  the per-step dispatch cost, which dominates small recurrent shapes; only when a
 *                  batch row's state fits a workgroup.
 *  - 'fused':      as 'persistent', with the input projection inside the loop too: 1 dispatch per
 *                  layer, more serial work. Measured slower on SwiftShader (long-lstm 154 vs 98 ms),
 *                  kept for devices where the extra dispatch matters more.
 */
import type { RnnConfig } from '../config.js';
import { numDirections, outputSize } from '../config.js';
import { RnnError } from '../errors.js';
import { GATE_LANES } from './layer-weights.js';
import { maxPersistentWorkgroup, persistentUnfit } from './ops/persistent.js';
import { STEP_WIDE_MIN_ROWS } from './ops/recurrent-step.js';

export type Strategy = 'per-step' | 'persistent' | 'fused';
export type StrategyChoice = Strategy | 'auto';

/**
 * Recurrent FLOPs per step (2·D·B·H_out·4H) from which a software adapter's per-step forward, with the
 * wide step kernel (B ≥ 8, see chooseStepLayout), beats the persistent loop. The loop is bound by its
 * W_hh loads (ops/persistent.ts): each of its two workgroups loads all of W_hh every step for its half
 * of the rows, where the step kernel's workgroups split W_hh's units among them, each load serving 8 or
 * more rows; and the step's several workgroups spread over both cores, where the loop's two sometimes
 * run one after the other. Measured in Chromium (SwiftShader, 2 cores, interleaved, 21 rounds, T 50),
 * per-step / persistent medians: at 2.1 MFLOP LSTM 128 B 16 0.85, LSTM 64 B 64 0.82; at 1.05 MFLOP
 * char-rnn (2×LSTM 128, B 8) 0.94 and 0.89 (0.90 over 31 rounds, 101.4 / 113.1 ms), LSTM 128 B 8 0.89,
 * GRU 64 B 32 0.86; below, either way: at 0.59 MFLOP LSTM 96 B 8 1.07, at 0.52 GRU 64 B 16 0.99, 2×LSTM
 * 64 B 16 0.98, LSTM 64 B 16 0.97, at 0.26 LSTM 64 B 8 1.08, GRU 32 B 32 0.90. In Node (21 rounds):
 * char-rnn 106.9 / 112.8 ms, LSTM 64 B 32 54.4 / 68.3. (An earlier step kernel lost at 1 MFLOP: char-rnn
 * 59.5 / 54.2, GRU 64 B 32 21.8 / 22.3, 7 rounds; at 4.2 MFLOP and up it won, as it still does: the
 * throughput shape, LSTM 256 B 32, 201.8 / 234.7 ms. And a process tends to keep one of the loop's two
 * modes: four alternating processes gave char-rnn per-step 71–82 ms against the loop's 54–55 and
 * 94–103; per-step has no slow mode.) The training rule uses this bound too, from 16 rows
 * (src/train/layers/recurrent/strategy.ts).
 */
export const SOFTWARE_WIDE_STEP_MIN_FLOP = 1_000_000;

/** The recurrent FLOPs of one step over all sequences: 2·D·B·H_out·4H (W_hh·h_{t−1}, gate lanes counted). */
export function recurrentStepFlop(config: RnnConfig, B: number): number {
  return 2 * numDirections(config) * B * outputSize(config) * GATE_LANES * config.hidden_size;
}

/**
 * Resolves a strategy for a call. 'auto' takes 'persistent' where it fits and
 *  - the state of all sequences is at most one workgroup's width of units (D·B·H ≤ 256): measured on
 *    SwiftShader (2 cores), long-lstm 98 vs 180 ms, voice-lstm 42 vs 63 ms; on an H100 voice-lstm runs
 *    in 1.1 ms with 2 dispatches;
 *  - or, on a software adapter, the layout has a workgroup per core (D·B ≥ 2) and a step is too small
 *    for the wide step kernel to pay (below SOFTWARE_WIDE_STEP_MIN_FLOP, or B < 8): measured on
 *    SwiftShader, persistent vs per-step (the narrow step kernel, B < 8) medians, bigru 29.5 vs 47.7 ms.
 *    (A single sequence with a large H keeps per-step there: it spreads each step over both cores, the
 *    persistent loop runs on one.)
 * else 'per-step'. A forced strategy that cannot run the shape is an error.
 */
export function chooseStrategy(choice: StrategyChoice, config: RnnConfig, B: number, limits: GPUSupportedLimits, softwareAdapter = false): Strategy {
  const unfit = persistentUnfit(config, B, limits);
  if (choice === 'persistent' || choice === 'fused') {
    if (unfit) throw new RnnError('LIMIT_EXCEEDED', `strategy "${choice}" cannot run this shape: ${unfit}`);
    return choice;
  }
  if (choice === 'per-step' || unfit) return 'per-step';
  const sequences = numDirections(config) * B;
  if (sequences * config.hidden_size <= maxPersistentWorkgroup(limits)) return 'persistent';
  if (!softwareAdapter || sequences < 2) return 'per-step';
  return B >= STEP_WIDE_MIN_ROWS && recurrentStepFlop(config, B) >= SOFTWARE_WIDE_STEP_MIN_FLOP ? 'per-step' : 'persistent';
}
