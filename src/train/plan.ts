/**
 * A training step on the GPU for one batch shape (T, B), recorded once as command lists and replayed
 * into one submission per step — for any composition of layers (model.ts). The plan allocates what
 * the layers declare (naming each tensor, counting what the forward keeps for the backward pass),
 * walks the layers forward (each value handed to the layers that read it; a value offered as a table
 * lookup — an embedding's rows — to its only reader as the table where that reader takes it, else
 * gathered once), records the loss on the last value and the sum of its rows, then walks them back
 * (each layer given dL/d(its outputs) and a tensor for dL/d(each input another layer made)), sums
 * ‖g‖², and records the optimizer's update over the flat parameters. The only read-back is the loss
 * and ‖g‖², and only when asked. A second step of the same shape creates no GPU objects.
 *
 * Buffers that outlive a plan (parameters, gradients, optimizer state, results) belong to the trainer
 * (gpu-trainer.ts) and are handed in as `shared`; the rest belong to the plan.
 */
import { F32_BYTES as F32 } from '../gpu/constants.js';
import { OwningRecorder } from '../gpu/recorder.js';
import type { GpuContext } from '../gpu/context.js';
import { type GpuDtype, type GpuTensor, gpuTensor } from '../gpu/gpu-tensor.js';
import { type StepIndex, stepIndex } from '../gpu/layer-record.js';
import { type RecordedLoss, recordLoss } from '../gpu/ops/loss.js';
import {
  type OptimizerKernel,
  type OptimizerScalars,
  RESULT_SLOTS,
  RESULT_WORDS,
  type RecordedOptimizer,
  optimizerLength,
  recordOptimizer,
} from '../gpu/ops/optimizer.js';
import { recordSum } from '../gpu/ops/reduce.js';
import type { GemmShape } from '../gpu/ops/gemm.js';
import { type Command, clear } from '../gpu/program.js';
import { REDUCE_DIMS_FIELDS, packU32Struct } from '../gpu/uniforms.js';
import { RnnError } from '../errors.js';
import { numDirections, outputSize } from '../config.js';
import type { PreparedBatch } from './batch.js';
import { type ModelConfig, outputFeatures } from './config.js';
import type { GpuLayer, PlanContext, TableLookup } from './layers/layer.js';
import type { PlanOptions, RecurrentGpu } from './layers/recurrent/gpu.js';
import type { BatchValue, TrainModel } from './model.js';

/**
 * The least activation memory a training step of shape (T, B) can keep from the forward for the
 * backward pass (bytes, f32): per layer and direction, what the gates' derivatives need — the
 * pre-activations (LSTM: 4 gates; GRU: 3 and W_hn·h + b_hn; RNN: 1), c_t (LSTM), the unprojected h
 * (proj_size) — and h_t, which is the layer's output; then the first layer's float input (not an
 * embedding's rows: the ids and the table give them again) and the head's output (for the loss's
 * derivative). Dropout masks are not counted: they are recomputed from the seed.
 */
export function minimumActivationBytes(model: ModelConfig, T: number, B: number): number {
  const rnn = model.rnn;
  const H = rnn.hidden_size;
  const gates = rnn.mode === 'LSTM' || rnn.mode === 'GRU' ? 4 : 1;
  const perPosition = gates * H + (rnn.mode === 'LSTM' ? H : 0) + (rnn.proj_size ? H : 0) + outputSize(rnn);
  const rows = !model.head || model.head.on === 'output' ? T * B : B;
  const input = model.embedding ? 0 : T * B * rnn.input_size; // an embedding's rows come again from the ids and the table
  return F32 * (rnn.num_layers * numDirections(rnn) * T * B * perPosition + input + (model.head ? rows * outputFeatures(model) : 0));
}

/** What the trainer owns and every plan uses. */
export interface SharedBuffers {
  readonly params: GPUBuffer;
  readonly grads: GPUBuffer;
  /** Optimizer state: a, b, c (3 × the parameter count). */
  readonly state: GPUBuffer;
  /** RESULT_WORDS words: the last loss and ‖g‖², and the halt (gpu/ops/optimizer.ts). */
  readonly results: GPUBuffer;
}

export class TrainPlan implements PlanContext {
  readonly purpose: 'train' | 'infer';
  readonly recurrence: PlanContext['recurrence'];
  readonly tag: string;
  readonly params: GpuTensor;
  readonly grads: GpuTensor;
  readonly lengths: GpuTensor;
  readonly sourceLengths: GpuTensor;
  /** The source length (T where the model has no source). */
  readonly S: number;
  /** Forward and loss: the loss in results[0]. */
  readonly forward: Command[] = [];
  /** Each layer's forward commands (in `forward`, in this order), and its records: for a decoding's steps (decode-gpu.ts). */
  readonly layerForward: Command[][] = [];
  /** Backward after `forward`: every gradient in `shared.grads`, ‖g‖² in results[1] (the two parts below). */
  readonly backward: Command[] = [];
  /** The first part: every layer's backward, the gradients in `shared.grads`. */
  readonly gradients: Command[] = [];
  /** The second: ‖g‖² (after clip_grad_value_) in results[1]; a penalty's gradient (L1) goes in between. */
  readonly norm: Command[] = [];
  /** The model's output after `forward`, time-major: (T·B or B rows, O). */
  readonly prediction: { buffer: GPUBuffer; elements: number };
  /** The recurrent module's records: its initial and final states, dL/dh0, dL/dc0, the gradient flow. */
  readonly recurrent: RecurrentGpu;
  /** Bytes the forward keeps for the backward pass (as asked for; the buffer pool may round buffers up). */
  activationBytes = 0;
  private readonly buffers: OwningRecorder;
  readonly gpuLayers: GpuLayer[] = [];
  /** The batch's values (BatchValue) as the plan holds them. */
  private readonly inputs = new Map<BatchValue, GpuTensor>();
  private readonly rows: number;
  private readonly O: number;
  /** What a training plan records after the forward (none in an inference plan). */
  private readonly training?: {
    readonly target: GpuTensor;
    readonly loss: RecordedLoss;
    readonly normDims: GPUBufferBinding;
    readonly optimizer: RecordedOptimizer;
  };
  private readonly onesTensor: GpuTensor;
  private index?: StepIndex;
  private readonly dispatchCounts = new Map<string, number>();
  private readonly lookups: ReadonlyMap<string, { lookup: TableLookup; producer: number }>;

  constructor(
    readonly ctx: GpuContext,
    readonly model: TrainModel,
    readonly shared: SharedBuffers,
    readonly T: number,
    readonly B: number,
    readonly options: PlanOptions,
    /** An encoder–decoder's source length. */
    S?: number,
  ) {
    this.S = S ?? T;
    this.purpose = options.purpose ?? 'train';
    this.recurrence = { strategy: options.strategy, flow: options.flow };
    const n = model.size;
    const TB = T * B;
    this.tag = `${this.purpose === 'train' ? 'TrainPlan' : 'InferencePlan'}(T=${T},B=${B}${S === undefined ? '' : `,S=${S}`})`;
    this.buffers = new OwningRecorder(ctx, this.tag);
    this.params = gpuTensor(shared.params, [n]);
    this.grads = gpuTensor(shared.grads, [n]);
    this.lengths = this.tensor('lengths', B, [B], 'work', 'u32');
    this.sourceLengths = S === undefined ? this.lengths : this.tensor('sourceLengths', B, [B], 'work', 'u32');
    const longest = Math.max(T, this.S) * B;
    this.onesTensor = this.tensor('ones', longest, [longest], 'work');
    ctx.device.queue.writeBuffer(this.onesTensor.buffer, 0, new Float32Array(longest).fill(1));
    // The batch's values: float features (kept for the first layer's weight gradient) or ids.
    for (const name of model.inputs) {
      if (name === 'input') {
        const I = (model.config as ModelConfig).rnn.input_size;
        this.inputs.set(name, this.tensor('input', TB * I, [TB, I], 'activation'));
      } else {
        const n = name === 'source' ? this.S * B : TB;
        this.inputs.set(name, this.tensor(name, n, [n], 'work', 'u32'));
      }
    }

    // The values each layer's outputs are read by (the last one by the loss).
    const readers = new Set<string>([model.output, ...model.layers.flatMap((l) => l.inputs)]);
    const values = new Map<string, GpuTensor>(this.inputs);
    // Values offered as lookups (an embedding's rows), and the layer that offered each.
    const lookups = new Map<string, { lookup: TableLookup; producer: number }>();
    const readCount = (name: string) => model.layers.filter((l) => l.inputs.includes(name)).length + (name === model.output ? 1 : 0);
    const recurrentIndex = model.layers.indexOf(model.recurrent);
    model.layers.forEach((layer, i) => {
      const gpu = layer.gpu(this, model.sections[i]);
      this.gpuLayers.push(gpu);
      this.layerForward.push([]);
      // A lookup goes to its only reader if that reader takes the table; otherwise the dense rows are
      // made (once), the gather recorded with the producer's forward.
      const given = layer.inputs.map((name, k) => {
        const offered = lookups.get(name);
        if (!offered) return undefined;
        if (readCount(name) === 1 && gpu.takesLookup?.(k, offered.lookup)) {
          offered.lookup.taken = true;
          return offered.lookup;
        }
        const { tensor, gather } = offered.lookup.dense();
        if (gather) {
          this.layerForward[offered.producer].push(gather);
          this.forward.push(gather);
        }
        values.set(name, tensor);
        return undefined;
      });
      const r = gpu.forward(
        layer.inputs.map((name, k) => (given[k] ? given[k].table : values.get(name)!)),
        layer.outputs.map((name) => readers.has(name)),
        given,
      );
      r.outputs.forEach((t, k) => t && values.set(layer.outputs[k], t));
      r.lookups?.forEach((l, k) => l && lookups.set(layer.outputs[k], { lookup: l, producer: i }));
      this.layerForward[i].push(...r.commands);
      this.forward.push(...r.commands);
    });
    // A lookup the loss reads itself (no layer after the embedding) is made dense too.
    const last = lookups.get(model.output);
    if (last && !values.has(model.output)) {
      const { tensor, gather } = last.lookup.dense();
      if (gather) this.forward.push(gather);
      values.set(model.output, tensor);
    }
    this.lookups = lookups;
    this.recurrent = this.gpuLayers[recurrentIndex] as RecurrentGpu;

    const y = values.get(model.output)!;
    [this.rows, this.O] = [y.shape[0], y.shape[1]];
    this.prediction = { buffer: y.buffer, elements: this.rows * this.O };
    if (this.purpose === 'train') this.training = this.recordTraining(values, y);
  }

  /** The loss and the sum of its rows into results[0]; the backward; ‖g‖²; the optimizer. */
  private recordTraining(values: ReadonlyMap<string, GpuTensor>, y: GpuTensor): NonNullable<TrainPlan['training']> {
    const { model, shared } = this;
    const n = model.size;
    const classes = model.loss.targets === 'classes';
    const target = this.tensor(
      'target',
      classes ? this.rows : this.rows * this.O,
      classes ? [this.rows] : [this.rows, this.O],
      'work',
      classes ? 'i32' : 'f32',
    );
    const dy = this.tensor('loss.dy', this.rows * this.O, [this.rows, this.O], 'work');
    const rowLoss = this.tensor('loss.rows', this.rows, [this.rows], 'work');
    const loss = recordLoss(this, { label: `${this.tag}.loss`, entryPoint: model.loss.entryPoint, rows: this.rows, O: this.O, y, target, dy, rowLoss });
    this.forward.push(loss.command, ...recordSum(this, 'loss', rowLoss, this.rows, false, shared.results, RESULT_SLOTS.loss));

    // Backward: each layer from the gradients of its outputs, writing those of the inputs a layer made.
    this.gradients.push(clear(shared.grads, 0, n * F32));
    const made = new Set(model.layers.flatMap((l) => l.outputs));
    const dValues = new Map<string, GpuTensor>([[model.output, dy]]);
    for (let i = model.layers.length - 1; i >= 0; i--) {
      const layer = model.layers[i];
      const dInputs = layer.inputs.map((name) => {
        if (!made.has(name)) return undefined;
        const offered = this.lookups.get(name);
        if (offered?.lookup.taken) return offered.lookup.grad; // dL/d(table): the reader writes it there
        if (dValues.has(name)) throw new Error(`${this.tag}: ${name} is read by two layers; summing their gradients is not implemented`);
        const v = values.get(name)!;
        const d = this.tensor(
          `d.${name}`,
          v.shape.reduce((a, b) => a * b, 1),
          v.shape,
          'work',
        );
        dValues.set(name, d);
        return d;
      });
      this.gradients.push(
        ...this.gpuLayers[i].backward(
          layer.outputs.map((name) => dValues.get(name)),
          dInputs,
        ),
      );
    }
    // ‖g‖² (after clip_grad_value_, whose clip write() sets) into results[1].
    const normDims = this.uniform('norm.dims', packU32Struct(REDUCE_DIMS_FIELDS, { n, offset: 0, out: 0, clip: 0 }));
    this.norm.push(...recordSum(this, 'norm', this.grads, n, true, shared.results, RESULT_SLOTS.normSq, normDims));
    this.backward.push(...this.gradients, ...this.norm);
    const length = optimizerLength(n);
    const optimizer = recordOptimizer(this, {
      label: `${this.tag}.optimizer`,
      n,
      params: gpuTensor(shared.params, [length]),
      grads: gpuTensor(shared.grads, [length]),
      state: gpuTensor(shared.state, [3 * length]),
      results: gpuTensor(shared.results, [RESULT_WORDS], 'u32'),
    });
    return { target, loss, normDims, optimizer };
  }

  /** Writes a batch and the step's scalars (the seed, training or evaluation, clip_grad_value_'s clip) before a replay. */
  write(batch: PreparedBatch, step: { seed: number; training: boolean; clipValue: number }): void {
    const q = this.ctx.device.queue;
    for (const [name, t] of this.inputs) {
      const data = name === 'input' ? Float32Array.from(batch.x!) : Uint32Array.from(name === 'source' ? batch.source! : batch.tokens!);
      q.writeBuffer(t.buffer, 0, data);
    }
    q.writeBuffer(this.lengths.buffer, 0, Uint32Array.from(batch.lengths ?? new Int32Array(batch.B).fill(batch.T)));
    if (this.sourceLengths !== this.lengths)
      q.writeBuffer(this.sourceLengths.buffer, 0, Uint32Array.from(batch.sourceLengths ?? new Int32Array(batch.B).fill(this.S)));
    for (const layer of this.gpuLayers) layer.write?.(q, batch, step);
    if (!this.training) return;
    const { target, loss, normDims } = this.training;
    q.writeBuffer(target.buffer, 0, this.model.loss.targets === 'classes' ? Int32Array.from(batch.target) : Float32Array.from(batch.target));
    loss.setScale(q, this.model.loss.scale(batch.target, this.O));
    q.writeBuffer(normDims.buffer, 0, packU32Struct(REDUCE_DIMS_FIELDS, { n: this.model.size, offset: 0, out: 0, clip: step.clipValue }));
  }

  /** The optimizer's update (after `backward`), its uniforms written for this step. */
  update(kernel: OptimizerKernel, scalars: OptimizerScalars): Command[] {
    if (!this.training) throw new Error(`${this.tag}: an inference plan has no update`);
    return [this.training.optimizer.step(this.ctx.device.queue, kernel, scalars)];
  }

  /** A batch value's tensor (what write() fills from a batch). */
  inputTensor(name: BatchValue): GpuTensor {
    return this.inputs.get(name)!;
  }

  /** PlanContext: a tensor the plan owns, checked against the device's binding limit first. */
  tensor(name: string, elements: number, shape: readonly number[], kind: 'activation' | 'work', dtype: GpuDtype = 'f32'): GpuTensor {
    const buffer = this.storage(name, elements);
    if (kind === 'activation') this.activationBytes += Math.max(1, elements) * F32; // what is kept, not the pool's rounding
    return gpuTensor(buffer, shape, dtype);
  }

  /** Recorder: a buffer of `elements` f32 the plan owns. */
  storage(name: string, elements: number, usage?: GPUBufferUsageFlags): GPUBuffer {
    const bytes = Math.max(1, elements) * F32;
    const limit = Math.min(this.ctx.limits.maxStorageBufferBindingSize, this.ctx.limits.maxBufferSize);
    if (bytes > limit) {
      this.release();
      throw new RnnError(
        'LIMIT_EXCEEDED',
        `a training step of T=${this.T}, B=${this.B}: its ${name} needs ${bytes} bytes, above this device's ${limit} (maxStorageBufferBindingSize); train on shorter windows or smaller batches`,
      );
    }
    return this.buffers.storage(name, elements, usage);
  }

  /** Recorder: a uniform buffer holding `data`, written now, released with the plan. */
  uniform(name: string, data: Uint32Array): GPUBufferBinding {
    return this.buffers.uniform(name, data);
  }

  ones(n: number): GpuTensor {
    if (n > this.onesTensor.shape[0]) throw new Error(`${this.tag}: ones(${n}) beyond max(T, S)·B`);
    return this.onesTensor;
  }

  stepIndex(): StepIndex {
    // The forward's steps 0 … T−1 (or S−1), and T (S) for the fused backward's last dispatch.
    this.index ??= stepIndex(this, Math.max(this.T, this.S) + 1);
    return this.index;
  }

  count(owner: string, commands: readonly Command[]): Command[] {
    this.dispatchCounts.set(owner, (this.dispatchCounts.get(owner) ?? 0) + commands.filter((c) => c.kind === 'dispatch').length);
    return [...commands];
  }

  /** The values offered as table lookups whose reader took the table (diagnostics). */
  get tablesTaken(): string[] {
    return [...this.lookups].filter(([, o]) => o.lookup.taken).map(([name]) => name);
  }

  /** Dispatches of one training step (forward, backward, update), in all and per recurrent layer. */
  get dispatches(): { total: number; perLayer: number[] } {
    const total = 1 + [...this.forward, ...this.backward].filter((c) => c.kind === 'dispatch').length;
    const rnn = this.model.recurrent;
    return { total, perLayer: Array.from({ length: rnn.config.num_layers }, (_, l) => this.dispatchCounts.get(`${rnn.name}.layer${l}`) ?? 0) };
  }

  /** Every GEMM of one training step (forward and backward), in recording order: what each computes. */
  get gemms(): GemmShape[] {
    return [...this.forward, ...this.backward].flatMap((c) => (c.kind === 'dispatch' && c.gemm ? [c.gemm] : []));
  }

  /** GPU bytes the plan holds (its own buffers; the trainer's shared ones not included). */
  get heldBytes(): number {
    return this.buffers.heldBytes;
  }

  release(): void {
    this.buffers.release();
  }
}
