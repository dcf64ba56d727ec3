/**
 * What a training backend does — the float64 CPU reference (cpu-trainer.ts) and WebGPU
 * (gpu-trainer.ts) — behind one asynchronous interface, so the trainer (trainer.ts) is the same code
 * over both. Results come back in the same layouts on both: the CPU's as Float64Array, the GPU's as
 * Float32Array.
 *
 * Carried state (truncated backpropagation through time, and stateful evaluation) is defined here,
 * once, for both engines. There are two carries, each the final state (h_n, c_n) of the last call of
 * its kind:
 *   'train'  written by every training step; a step with `carry` starts from it;
 *   'eval'   written by every evaluate and predict; one of those with `carry` starts from it.
 * `gradients` (and gradient flow) neither read nor write either. So a prediction in the middle of
 * training — a progress display, a validation pass — never moves the state the next carried training
 * step starts from. A carried call starts from zeros when its carry has not been written yet, and is
 * an error (OPTION_INVALID) when the carry holds another batch size.
 */
import type { Backend } from '../api.js';
import { RnnError } from '../errors.js';
import type { PreparedBatch } from './batch.js';
import type { OptimizerConfig } from './optim.js';
import type { ResolvedSample } from './sample.js';
import type { BeamRecord, ResolvedDecode } from './decode.js';
import type { BackwardStrategy } from '../gpu/ops/backward.js';
import type { GemmShape } from '../gpu/ops/gemm.js';

export type CarryKind = 'train' | 'eval';

export interface EngineStepResult {
  /** The loss before the update (read back only with readLoss). */
  loss?: number;
  /** ‖g‖ as clip_grad_norm_ returns it (read back with the loss). */
  gradNorm?: number;
}

export interface EngineGradients {
  loss: number;
  gradNorm: number;
  /** dL/dθ by state_dict name. */
  grads: Record<string, Float32Array | Float64Array>;
  /** dL/dh0 (L·D, B, H_out) and, for LSTM, dL/dc0 (L·D, B, H), as if h0 / c0 were given (zeros where not). */
  h0: Float32Array | Float64Array;
  c0?: Float32Array | Float64Array;
  /** With `flow`: ‖∂L/∂h_t‖ of every layer l and step t over both directions and the whole batch, flow[l][t]. */
  flow?: number[][];
}

export interface EngineDiagnostics {
  heldBytes: number;
  strategy: BackwardStrategy;
  plans: Array<{ T: number; B: number; activationBytes: number; dispatches: { total: number; perLayer: number[] }; tablesTaken: string[]; gemms: GemmShape[] }>;
}

/**
 * A step whose loss or gradient norm is not finite (NaN, ±Inf) makes no update, and neither does any
 * step after it, until it is read back: then the engine is back at the step before it (parameters,
 * optimizer state, step count), the halt is cleared, and the step that read it rejects with this.
 */
export class NonFiniteStepError extends RnnError {
  constructor(
    readonly step: number,
    readonly loss: number,
    readonly gradNorm: number,
    readonly skipped: number,
  ) {
    super(
      'NON_FINITE',
      `training step ${step}: the ${Number.isFinite(loss) ? `gradient norm was ${gradNorm}` : `loss was ${loss}`} (not finite), so it made no update${
        skipped > 0 ? `, nor did the ${skipped} step(s) after it` : ''
      }; the parameters and optimizer state are those after step ${step - 1}. ` +
        'Lower the learning rate, clip the gradients (optimizer.clip_grad_norm), or check the data (createTrainer({ checkFinite: true }))',
    );
  }
}

/** Where a halted engine stands: the first step whose loss or gradient norm was not finite. */
export interface Halt {
  step: number;
  loss: number;
  gradNorm: number;
}

/** A carried state in the layout of a batch's h0 / c0: h (L·D, B, H_out), and c (L·D, B, H) for LSTM. */
export interface CarrySnapshot {
  readonly B: number;
  readonly h: Float32Array | Float64Array;
  readonly c?: Float32Array | Float64Array;
}

/**
 * Everything the next step depends on besides the model, the optimizer and the seed (checkpoint.ts): the
 * steps taken (the schedule's position and the dropout masks' seed follow from it), the parameters,
 * the optimizer's state slots a, b, c by parameter name (zeros where an optimizer keeps none), and the
 * carried states.
 */
export interface EngineSnapshot {
  readonly steps: number;
  readonly params: Record<string, Float32Array | Float64Array>;
  readonly state: Record<'a' | 'b' | 'c', Record<string, Float32Array | Float64Array>>;
  readonly carries: Partial<Record<CarryKind, CarrySnapshot>>;
}

export interface TrainEngine {
  readonly backend: Backend;
  /** Optimizer steps taken (including, until read back, steps that a non-finite step stopped). */
  readonly steps: number;
  /**
   * Forward, loss, backward, clipping, the optimizer's update. With `readLoss` the loss and ‖g‖ come
   * back (and a halt is reported: NonFiniteStepError). With `carry`, starts from the 'train' carry.
   */
  step(batch: PreparedBatch, opt: OptimizerConfig, options: { readLoss: boolean; carry: boolean }): Promise<EngineStepResult>;
  /** The loss in evaluation mode; writes the 'eval' carry, starts from it with `carry`. */
  evaluate(batch: PreparedBatch, carry: boolean): Promise<number>;
  /** The model's output in evaluation mode, time-major ((T·B or B rows, O)); the 'eval' carry as evaluate. */
  predict(batch: PreparedBatch, carry: boolean): Promise<Float32Array | Float64Array>;
  /** Forward and backward in training mode without an update, from the batch's own initial state. */
  gradients(batch: PreparedBatch, options: { flow: boolean }): Promise<EngineGradients>;
  /** The current parameters by state_dict name, in PyTorch's layouts. */
  parameters(): Promise<Record<string, Float32Array | Float64Array>>;
  /** A language model's continuation of `prompt` (sample.ts). */
  sample(prompt: Int32Array, options: ResolvedSample): Promise<number[]>;
  /** An encoder–decoder's greedy or beam-search decoding of a source, each row repeated for the beam (decode.ts). */
  decode(source: PreparedBatch & { rows: number }, options: ResolvedDecode): Promise<BeamRecord>;
  /** WebGPU: the GPU memory held and each kept plan's figures; undefined on the CPU. */
  diagnostics(): EngineDiagnostics | undefined;
  /** Where training stands (a pending halt is reported first: NonFiniteStepError). */
  snapshot(): Promise<EngineSnapshot>;
  /** Stands where `snapshot` says (a snapshot of this model, from either engine). */
  restore(snapshot: EngineSnapshot): Promise<void>;
  destroy(): Promise<void>;
}

/** The rows a carry holds, checked against a call that starts from it. */
export function checkCarriedBatch(kind: CarryKind, held: number | undefined, B: number): void {
  if (held === undefined || held === B) return;
  const from = kind === 'train' ? 'the last training step' : 'the last evaluate / predict';
  throw new RnnError(
    'OPTION_INVALID',
    `carryState: the carried state (from ${from}) has batch size ${held}, this batch has ${B}; a carried batch keeps its batch size`,
  );
}
