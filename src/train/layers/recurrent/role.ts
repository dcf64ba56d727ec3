import type { PreparedBatch } from '../../batch.js';

/**
 * Which sequence the layer runs over — the batch's own (T steps, `lengths`) or, in an encoder–decoder,
 * the source (S steps, `source_lengths`) or the target (T steps, all full) — where its initial state
 * comes from (the batch's h0 / c0, or a value another layer makes: a bridge), and where its dropout
 * streams start (two recurrent layers of one model draw different masks).
 */
export interface RecurrentRole {
  readonly sequence: 'batch' | 'source' | 'target';
  /** The value holding the initial state, in the state layout (index.ts's joinStateValue), when another layer makes it. */
  readonly initial?: string;
  readonly streamBase: number;
}

/** The sequence's length and its rows' lengths in a batch. */
export function sequenceOf(role: RecurrentRole, batch: PreparedBatch): { T: number; lengths?: Int32Array } {
  if (role.sequence === 'source') return { T: batch.S!, lengths: batch.sourceLengths };
  return { T: batch.T, lengths: role.sequence === 'batch' ? batch.lengths : undefined };
}
