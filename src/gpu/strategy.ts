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
import { numDirections } from '../config.js';
import { RnnError } from '../errors.js';
import { maxPersistentWorkgroup, persistentUnfit } from './ops/persistent.js';

export type Strategy = 'per-step' | 'persistent' | 'fused';
export type StrategyChoice = Strategy | 'auto';

/**
 * Resolves a strategy for a call. 'auto' takes 'persistent' where it fits and
 *  - the state of all sequences is at most one workgroup's width of units (D·B·H ≤ 256): measured on
 *    SwiftShader (2 cores), long-lstm 98 vs 180 ms, voice-lstm 42 vs 63 ms; on an H100 voice-lstm runs
 *    in 1.1 ms with 2 dispatches;
 *  - or, on a software adapter, the layout has a workgroup per core (D·B ≥ 2): measured on SwiftShader,
 *    persistent vs per-step medians, bigru 29.5 vs 47.7 ms, throughput 920 vs 1004 ms, char-rnn 217 vs
 *    223 ms. (A single sequence with a large H keeps per-step there: it spreads each step over both
 *    cores, the persistent loop runs on one.)
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
  return softwareAdapter && sequences >= 2 ? 'persistent' : 'per-step';
}
