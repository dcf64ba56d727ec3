/**
 * Splitting a call that does not fit the device into pieces that do, and putting the results back
 * together. Batch rows are independent sequences, so any model splits over the batch; a
 * unidirectional model also splits over time, carrying its state from one piece to the next (what a
 * stream does), which keeps every row of the batch in each dispatch. A bidirectional model cannot
 * split over time: its reverse direction starts at the end.
 */
import { type RnnConfig, numDirections, outputSize } from '../config.js';
import { RnnError } from '../errors.js';
import type { PreparedInputs } from '../inputs.js';
import type { TensorData } from '../tensor.js';
import { PlanSizes } from './state.js';
import type { StrategyChoice } from './strategy.js';

export interface GpuRunResult {
  /** (T, B, D·H_out), or undefined when not read back */
  output?: Float32Array;
  /** (L·D, B, H_out) */
  hN?: Float32Array;
  /** (L·D, B, H), LSTM only */
  cN?: Float32Array;
}

/** Where a run takes its initial state from and whether it reads results back. */
export interface GpuRunOptions {
  /** A stream's state buffer (all layers); when absent, h0 / c0 of the inputs (zeros if none). */
  stateBuffer?: GPUBuffer;
  readOutput: boolean;
  readState: boolean;
  /** Fill intermediate and output buffers with NaN first (tests: unwritten elements show). */
  poison?: boolean;
  /** Recurrent strategy; 'auto' (default) picks by shape and device (see strategy.ts). */
  strategy?: StrategyChoice;
}

/** What runInPieces needs of a model: whether a piece fits, running one, and a state buffer to carry. */
export interface PieceHost {
  readonly config: RnnConfig;
  /** Why a piece of `steps` × `rows` does not fit the device, or undefined. */
  unfit(steps: number, rows: number, choice: StrategyChoice | undefined): string | undefined;
  runNow(inputs: PreparedInputs, options: GpuRunOptions): Promise<GpuRunResult>;
  createStateBuffer(B: number): GPUBuffer;
  writeState(buffer: GPUBuffer, B: number, h0?: ArrayLike<number>, c0?: ArrayLike<number>): void;
  readState(buffer: GPUBuffer, B: number): Promise<{ hN: Float32Array; cN?: Float32Array }>;
  releaseStateBuffer(buffer: GPUBuffer): void;
}

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
export function choosePiece(
  T: number,
  B: number,
  splitTime: boolean,
  fits: (steps: number, rows: number) => boolean,
): { steps: number; rows: number } | undefined {
  for (let rows = B; rows >= 1; rows = rows === 1 ? 0 : Math.ceil(rows / 2)) {
    for (let steps = T; steps >= 1; steps = !splitTime || steps === 1 ? 0 : Math.ceil(steps / 2)) {
      if (fits(steps, rows)) return { steps, rows };
    }
  }
  return undefined;
}

/** Runs a call whole if it fits, else in the largest pieces that do (see choosePiece); results put back together. */
export async function runInPieces(host: PieceHost, inputs: PreparedInputs, options: GpuRunOptions): Promise<GpuRunResult> {
  const { T, B } = inputs;
  const fits = (steps: number, rows: number) => host.unfit(steps, rows, options.strategy) === undefined;
  if (fits(T, B)) return host.runNow(inputs, options);
  // A stream's state covers all its rows, so a stream splits over time only.
  const piece = choosePiece(T, options.stateBuffer ? 1 : B, !host.config.bidirectional, (steps, rows) => fits(steps, options.stateBuffer ? B : rows));
  if (!piece) {
    // The smallest piece there is: one step of every row (a stream), all steps of one row (bidirectional), or one of one.
    const [steps, rows, how] = options.stateBuffer
      ? [1, B, 'over time (a stream keeps all its rows together)']
      : host.config.bidirectional
        ? [T, 1, 'over the batch (a bidirectional model cannot split over time)']
        : [1, 1, 'over time and batch'];
    const why = host.unfit(steps, rows, options.strategy);
    throw new RnnError('LIMIT_EXCEEDED', `T=${T}, B=${B} does not fit this device even split ${how}: a piece of T=${steps}, B=${rows} still does not, ${why}`);
  }
  if (options.stateBuffer) return runOverTime(host, inputs, options, piece.steps, options.stateBuffer);
  const s = new PlanSizes(host.config, 1, B);
  const LD = host.config.num_layers * s.D;
  const F = s.D * s.Hout;
  const output = new Float32Array(T * B * F);
  const hN = new Float32Array(LD * B * s.Hout);
  const cN = s.Hc > 0 ? new Float32Array(LD * B * s.Hc) : undefined;
  for (let b0 = 0; b0 < B; b0 += piece.rows) {
    const rows = Math.min(piece.rows, B - b0);
    const part = sliceInputs(inputs, host.config.input_size, s.Hout, s.Hc, LD, b0, rows);
    const r = piece.steps === T ? await host.runNow(part, options) : await runOverTime(host, part, options, piece.steps);
    if (r.output) scatterRows(output, r.output, T, B, F, b0, rows);
    if (r.hN) scatterRows(hN, r.hN, LD, B, s.Hout, b0, rows);
    if (r.cN && cN) scatterRows(cN, r.cN, LD, B, s.Hc, b0, rows);
  }
  return { output: options.readOutput ? output : undefined, ...(options.readState ? { hN, cN } : {}) };
}

/**
 * A unidirectional run in pieces of `steps` steps, the state carried in a state buffer between them:
 * the stream's own, or one made here from h0 / c0 and read back at the end.
 */
async function runOverTime(host: PieceHost, inputs: PreparedInputs, options: GpuRunOptions, steps: number, streamState?: GPUBuffer): Promise<GpuRunResult> {
  const { T, B } = inputs;
  const state = streamState ?? host.createStateBuffer(B);
  try {
    if (!streamState) host.writeState(state, B, inputs.h0, inputs.c0);
    const F = numDirections(host.config) * outputSize(host.config);
    const output = options.readOutput ? new Float32Array(T * B * F) : undefined;
    for (let t0 = 0; t0 < T; t0 += steps) {
      const n = Math.min(steps, T - t0);
      const piece: PreparedInputs = {
        T: n,
        B,
        unbatched: false,
        x: sliceSteps(inputs.x, B, host.config.input_size, t0, n),
        lengths: pieceLengths(inputs.lengths, T, B, t0, n),
      };
      const r = await host.runNow(piece, { ...options, stateBuffer: state, readState: false });
      output?.set(r.output!, t0 * B * F);
    }
    return { output, ...(options.readState && !streamState ? await host.readState(state, B) : {}) };
  } finally {
    if (!streamState) host.releaseStateBuffer(state);
  }
}
