/**
 * Splitting a call that does not fit the device into pieces that do, and putting the results back
 * together. Batch rows are independent sequences, so any model splits over the batch; a
 * unidirectional model also splits over time, carrying its state from one piece to the next (what a
 * stream does), which keeps every row of the batch in each dispatch. A bidirectional model cannot
 * split over time: its reverse direction starts at the end.
 */
import type { PreparedInputs } from '../inputs.js';
import type { TensorData } from '../tensor.js';

/** Rows [b0, b0 + rows) of a time-major (T, B, F) array. */
export function sliceRows(data: TensorData, T: number, B: number, F: number, b0: number, rows: number): Float32Array {
  const out = new Float32Array(T * rows * F);
  for (let t = 0; t < T; t++) out.set(data.subarray((t * B + b0) * F, (t * B + b0 + rows) * F), t * rows * F);
  return out;
}

/** Writes a (T, rows, F) piece into rows [b0, b0 + rows) of a time-major (T, B, F) array. */
export function scatterRows(target: Float32Array, piece: Float32Array, T: number, B: number, F: number, b0: number, rows: number): void {
  for (let t = 0; t < T; t++) target.set(piece.subarray(t * rows * F, (t + 1) * rows * F), (t * B + b0) * F);
}

/** Steps [t0, t0 + steps) of a time-major (T, B, F) array (a view, no copy). */
export function sliceSteps(data: TensorData, B: number, F: number, t0: number, steps: number): TensorData {
  return data.subarray(t0 * B * F, (t0 + steps) * B * F);
}

/** The lengths of a piece of `steps` steps starting at t0: each row's remaining steps, 0 for rows already done. */
export function pieceLengths(lengths: Int32Array | undefined, T: number, B: number, t0: number, steps: number): Int32Array {
  const out = new Int32Array(B);
  for (let b = 0; b < B; b++) out[b] = Math.min(Math.max((lengths ? lengths[b] : T) - t0, 0), steps);
  return out;
}

/** The inputs of batch rows [b0, b0 + rows): x, lengths, and h0 / c0 (L·D, B, ·) sliced alike. */
export function sliceInputs(inputs: PreparedInputs, I: number, hWidth: number, cWidth: number, LD: number, b0: number, rows: number): PreparedInputs {
  return {
    T: inputs.T,
    B: rows,
    unbatched: false,
    x: sliceRows(inputs.x, inputs.T, inputs.B, I, b0, rows),
    lengths: inputs.lengths?.slice(b0, b0 + rows),
    h0: inputs.h0 && sliceRows(inputs.h0, LD, inputs.B, hWidth, b0, rows),
    c0: inputs.c0 && sliceRows(inputs.c0, LD, inputs.B, cWidth, b0, rows),
  };
}

/**
 * The largest piece (steps, rows) not larger than (T, B) that `fits`, halving time first when the
 * model may split over time (that keeps every batch row in each dispatch), then the batch.
 */
export function choosePiece(T: number, B: number, splitTime: boolean, fits: (steps: number, rows: number) => boolean): { steps: number; rows: number } | undefined {
  for (let rows = B; rows >= 1; rows = rows === 1 ? 0 : Math.ceil(rows / 2)) {
    for (let steps = T; steps >= 1; steps = !splitTime || steps === 1 ? 0 : Math.ceil(steps / 2)) {
      if (fits(steps, rows)) return { steps, rows };
    }
  }
  return undefined;
}
