/**
 * The layer interface of training. A trainable model is a list of layers (model.ts) that pass named
 * values to one another — the batch's `tokens` or `input`, then each layer's outputs (`embedding.output`,
 * `rnn.output`, `rnn.last`, `head.output`, …) — and a loss on the last value. Each layer, in a folder of
 * its own, says:
 *   - its parameters, with PyTorch's state_dict names, and how they are initialised;
 *   - where they sit in the trainer's flat buffers (parameters, gradients and optimizer state share one
 *     layout), and how they go in and out of it;
 *   - its float64 reference, forward and backward, which the CPU backend runs and the GPU is tested
 *     against;
 *   - its GPU forward and backward, recorded once per batch shape from the ops of src/gpu/ops/ onto
 *     tensors a training plan (plan.ts) allocates from the layer's own declarations.
 * Neither the plan, nor the reference walker, nor the trainer knows what a layer computes.
 */
import type { GpuContext } from '../../gpu/context.js';
import type { BackwardStrategy } from '../../gpu/ops/backward.js';
import type { GpuDtype, GpuTensor } from '../../gpu/gpu-tensor.js';
import type { StepIndex } from '../../gpu/layer-record.js';
import type { Command, Recorder } from '../../gpu/program.js';
import type { PreparedBatch } from '../batch.js';

/** A parameter: its state_dict name and shape. */
export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

/** A layer's place in the flat parameter buffer: where it starts, how many floats it takes (a multiple of 4). */
export interface FlatSection {
  readonly start: number;
  readonly size: number;
  /** Its parameters (by state_dict name) into `flat` at `start`, in the layout its kernels read. */
  pack(params: Readonly<Record<string, ArrayLike<number>>>, flat: Float32Array): void;
  /** Its part of `flat` back into its parameters by state_dict name, PyTorch's layouts. */
  unpack(flat: Float32Array): Record<string, Float32Array>;
}

/** The draws of initialisation: one generator for the whole model, taken in state_dict order. */
export interface InitDraws {
  /** U(−bound, bound) */
  uniform(bound: number): number;
  /** N(0, 1) */
  gauss(): number;
  readonly scheme: 'default' | 'xavier' | 'kaiming';
  readonly orthogonal: boolean;
  readonly forgetBias?: number;
}

/** What the float64 reference of a layer sees besides its inputs. */
export interface ReferenceContext {
  readonly batch: PreparedBatch;
  readonly params: Readonly<Record<string, Float64Array>>;
  /** Training mode (dropout on). */
  readonly training: boolean;
  /** The step's seed (dropout masks). */
  readonly seed: number;
}

export interface ReferenceForward<Cache> {
  readonly outputs: Float64Array[];
  readonly cache: Cache;
}

/** What a layer's GPU records see of the training plan that owns the buffers. */
export interface PlanContext extends Recorder {
  readonly ctx: GpuContext;
  /**
   * 'train': the forward keeps what the backward pass needs, and a backward is recorded; 'infer': the
   * forward alone, keeping nothing (sampling), the recurrent state left in place for the next run.
   */
  readonly purpose: 'train' | 'infer';
  /** The plan's shape: sequence length and batch; an encoder–decoder's source length (T where there is none). */
  readonly T: number;
  readonly B: number;
  readonly S: number;
  /** The trainer's flat parameters and gradients (the layer's section from its `start`). */
  readonly params: GpuTensor;
  readonly grads: GpuTensor;
  /** The batch's sequence lengths (B, u32; T where the batch has none), and its source lengths (S where none). */
  readonly lengths: GpuTensor;
  readonly sourceLengths: GpuTensor;
  /**
   * A tensor the plan owns, named `<layer>.<name>`: 'activation' when the forward keeps it for the
   * backward pass (the plan's activation memory counts these), 'work' otherwise.
   */
  tensor(name: string, elements: number, shape: readonly number[], kind: 'activation' | 'work', dtype?: GpuDtype): GpuTensor;
  /** A tensor of at least `n` ≤ max(T, S)·B ones (the bias gradients' GEMMs), shared. */
  ones(n: number): GpuTensor;
  /** The step-index uniform of the per-step kernels (max(T, S) + 1 entries), shared. */
  stepIndex(): StepIndex;
  /** How the recurrent layers run their time loops: the backward strategy asked for ('auto': each layer's best fit), gradient flow kept or not. */
  readonly recurrence: { readonly strategy: BackwardStrategy | 'auto'; readonly flow: boolean };
  /** Counts a layer's dispatches under `owner` (a recurrent layer's sublayers, say) for the plan's diagnostics. */
  count(owner: string, commands: readonly Command[]): Command[];
}

/**
 * A value that is rows of a table picked by ids — an embedding's output, x[p] = table[ids[p]] for the
 * positions p — as its producer offers it: the table and the ids, and the gather that makes the dense
 * value. A layer that reads it may take the table instead (GpuLayer.takesLookup): then the gather is
 * never recorded, and its backward gives dL/d(table) directly, into `grad`, instead of dL/dx.
 */
export interface TableLookup {
  /** (V, E): the table's rows in the flat parameters. */
  readonly table: GpuTensor;
  /** (positions) u32: the batch's ids. */
  readonly ids: GpuTensor;
  readonly positions: number;
  /** The batch's ids on the host (a layer that groups positions by id before a replay, as the embedding's gradient does). */
  hostIds(batch: PreparedBatch): ArrayLike<number>;
  /** dL/d(table) (V, E): the table's section of the flat gradients, where the reader that took the table writes it. */
  readonly grad: GpuTensor;
  /** The dense value (positions, E) and the gather that makes it: made once, for a reader that does not take the table. */
  dense(): { tensor: GpuTensor; gather?: Command };
  /** Set by the plan when a reader took the table: the producer then records neither the gather nor its own backward. */
  taken: boolean;
}

/** A layer's recording in one plan. */
export interface GpuLayer {
  /**
   * Whether it computes from the table of input `i`, given as a lookup, rather than from the dense
   * value (asked before forward(); absent: never). Then forward() gets the lookup in `lookups[i]` (and a
   * placeholder in `inputs[i]`), and its backward writes dL/d(table) into lookup.grad, not into dInputs[i].
   */
  takesLookup?(i: number, lookup: TableLookup): boolean;
  /** The forward, once: its outputs' tensors (each output only where `wanted`), and the commands. */
  forward(
    inputs: readonly GpuTensor[],
    wanted: readonly boolean[],
    lookups?: readonly (TableLookup | undefined)[],
  ): { outputs: Array<GpuTensor | undefined>; commands: Command[]; lookups?: Array<TableLookup | undefined> };
  /**
   * The backward, once, after the forward: from dL/d(output) (undefined where nothing reached an
   * output) it writes dL/d(input i) into dInputs[i] where one is given, and its parameters' gradients
   * into the plan's gradient buffer.
   */
  backward(dOutputs: readonly (GpuTensor | undefined)[], dInputs: readonly (GpuTensor | undefined)[]): Command[];
  /** Before each replay: the batch's host data, the step's seed, training or evaluation. */
  write?(queue: GPUQueue, batch: PreparedBatch, step: { seed: number; training: boolean }): void;
}

export interface TrainLayer<Cache = unknown> {
  /** Its attribute name in the PyTorch module: the prefix of its parameters' names. */
  readonly name: string;
  /** The values it reads and writes (the batch's are `tokens` and `input`). */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Its parameters, in state_dict order. */
  parameters(): ParamSpec[];
  /** Initial values of its parameters (drawn in parameters() order). */
  initialise(draws: InitDraws): Record<string, Float64Array>;
  /** Its section of the flat buffers, starting at `start` (a multiple of 4). */
  section(start: number): FlatSection;
  /** The float64 forward. */
  referenceForward(inputs: ReadonlyArray<ArrayLike<number>>, ctx: ReferenceContext): ReferenceForward<Cache>;
  /**
   * The float64 backward: adds its parameters' gradients into `grads` (by state_dict name) and returns
   * dL/d(input i), or undefined for inputs that have none (token ids).
   */
  referenceBackward(
    cache: Cache,
    dOutputs: ReadonlyArray<Float64Array | undefined>,
    grads: Record<string, Float64Array>,
    ctx: ReferenceContext,
  ): Array<Float64Array | undefined>;
  /** Its GPU records in a plan, its parameters at `section` of the flat buffers. */
  gpu(plan: PlanContext, section: FlatSection): GpuLayer;
}
