/**
 * The training API: `createTrainer` builds a trainable model (embedding → rnn → head, config.ts) on
 * WebGPU or on the float64 CPU reference, initialised (init.ts) or from a state_dict, with an optimizer
 * (optim.ts). `trainStep` for custom loops (one submission per step on WebGPU; the loss is read back
 * only when asked), `gradients` and `gradientFlow` to look inside, `parameters` / `stateDict` to take
 * the weights out (safetensors that PyTorch loads with the same names), `toRnn` to run the trained
 * recurrent module with the inference engine. `fit` (fit.ts) and `sample` (sample.ts) build on these.
 */
import type { Backend } from '../api.js';
import { RnnError, describeValue } from '../errors.js';
import { contextFor } from '../gpu/device.js';
import { checkOptions, swapLeadingAxes } from '../inputs.js';
import { type Rnn, createRnn } from '../rnn.js';
import { type SafetensorsFile, readSafetensors, writeSafetensors } from '../safetensors.js';
import { type Tensor, checkFloatTensor } from '../tensor.js';
import { type PreparedBatch, type TrainBatch, prepareBatch } from './batch.js';
import { type ModelConfig, type ModelConfigInput, modelParameterSpecs, outputFeatures, resolveModelConfig } from './config.js';
import { CpuTrainer } from './cpu-trainer.js';
import { GpuTrainer, chooseBackward } from './gpu-trainer.js';
import type { BackwardStrategy } from '../gpu/ops/backward.js';
import { minimumActivationBytes } from './gpu-plan.js';
import { type InitOptions, initialParameters } from './init.js';
import { type OptimizerConfig, type OptimizerConfigInput, resolveOptimizer } from './optim.js';
import { type FitOptions, type FitReport, fit } from './fit.js';
import { type SampleOptions, resolveSample, sampleReference } from './sample.js';
import { numDirections, outputSize } from '../config.js';
import { type GradcheckReport, gradcheck } from '../reference/gradcheck.js';

export interface CreateTrainerOptions {
  /** The model (src/train/config.ts), or an already resolved one. */
  model: ModelConfigInput | ModelConfig;
  /** torch.optim's name and arguments plus clipping and a schedule (default: Adam with its defaults). */
  optimizer?: OptimizerConfigInput;
  /** Starting weights by state_dict name (embedding.weight, rnn.weight_ih_l0, …, head.weight), or a safetensors file. */
  weights?: Record<string, Tensor> | SafetensorsFile | Uint8Array;
  /** Without weights: how to initialise (PyTorch's defaults, seeded). */
  init?: InitOptions;
  /** 'webgpu' (default), 'cpu' (float64 reference) or 'auto'. */
  backend?: Backend | 'auto';
  device?: GPUDevice;
  /** Seeds the dropout masks (and, without init.seed, the initialisation). */
  seed?: number;
  /**
   * WebGPU: how each layer's backward pass runs — 'persistent' (one dispatch for the whole reverse
   * loop), 'fused' (one per step), 'per-step' (two; also with proj_size) — or 'auto' (default: the
   * first of these that fits the model, src/gpu/ops/backward.ts).
   */
  strategy?: BackwardStrategy | 'auto';
}

export interface TrainStepResult {
  /** The loss before this step's update (read back only with readLoss). */
  loss?: number;
  /** ‖g‖ as clip_grad_norm_ returns it (read back with the loss). */
  gradNorm?: number;
}

export interface GradientsResult {
  loss: number;
  gradNorm: number;
  /** dL/dθ by state_dict name. */
  grads: Record<string, Tensor>;
  /** dL/dh0 (L·D, B, H_out) and dL/dc0 (LSTM), as if h0 / c0 were given (zeros where not). */
  h0: Tensor;
  c0?: Tensor;
}

/** What a WebGPU trainer holds on the GPU, and what one step of each batch shape it has seen does. */
export interface TrainerDiagnostics {
  /** GPU bytes in all: parameters, gradients, optimizer state and the training plans kept (one per batch shape, a few). */
  heldBytes: number;
  /** How each layer's backward pass runs. */
  strategy: BackwardStrategy;
  plans: Array<{
    T: number;
    B: number;
    /** Dispatches of one step: in all, and per recurrent layer (forward and backward). */
    dispatches: { total: number; perLayer: number[] };
    /** Bytes of what the forward keeps for the backward pass, and the least that could be kept (minimumActivationBytes). */
    activationBytes: number;
    minimumActivationBytes: number;
  }>;
}

export interface Trainer {
  readonly model: ModelConfig;
  readonly backend: Backend;
  readonly optimizer: OptimizerConfig;
  /** Steps taken so far. */
  readonly steps: number;
  /**
   * One step: forward, loss, backward, clipping, the optimizer's update, the schedule's step. The loss
   * is read back only with `readLoss`. `carryState` starts from the previous step's final state
   * (detached: truncated backpropagation through time over consecutive windows of a text).
   */
  trainStep(batch: TrainBatch, options?: { readLoss?: boolean; carryState?: boolean }): Promise<TrainStepResult>;
  /** The loss in evaluation mode (no dropout, no update). */
  evaluate(batch: TrainBatch, options?: { carryState?: boolean }): Promise<number>;
  /**
   * The model's output in evaluation mode for a batch without a target: the head's ([T, B, O], or
   * [B, T, O] with batch_first; [B, O] on h_n), or the last layer's without a head. For a language
   * model these are the logits of the next token at every position.
   */
  predict(batch: Omit<TrainBatch, 'target'>, options?: { carryState?: boolean }): Promise<Tensor>;
  gradients(batch: TrainBatch): Promise<GradientsResult>;
  /** ‖∂L/∂h_t‖ for every layer l and step t (both directions, the whole batch): flow[l][t]. */
  gradientFlow(batch: TrainBatch): Promise<{ loss: number; flow: number[][] }>;
  parameters(): Promise<Record<string, Tensor>>;
  /** The weights as a safetensors file (F32, state_dict names). */
  stateDict(): Promise<Uint8Array>;
  /** The trained recurrent module as an inference model (forward, stream), on the same backend. */
  toRnn(): Promise<Rnn>;
  /** WebGPU: the GPU memory and per-step dispatches (undefined on the CPU backend). */
  diagnostics(): TrainerDiagnostics | undefined;
  /** Epochs over `batches` with progress, validation and early stopping (fit.ts). */
  fit(batches: readonly TrainBatch[], options?: FitOptions): Promise<FitReport>;
  /** A language model's continuation of `prompt` (token ids): sampled on the GPU (sample.ts). */
  sample(prompt: ArrayLike<number>, options?: SampleOptions): Promise<number[]>;
  destroy(): Promise<void>;
}

const TRAINER_OPTIONS = ['model', 'optimizer', 'weights', 'init', 'backend', 'device', 'seed', 'strategy'] as const;

export async function createTrainer(options: CreateTrainerOptions): Promise<Trainer> {
  const opts = checkOptions<CreateTrainerOptions>('createTrainer options', options, TRAINER_OPTIONS);
  if (opts.model === undefined) throw new RnnError('OPTION_INVALID', 'createTrainer options.model: missing');
  const model = resolveModelConfig(opts.model);
  const optimizer = resolveOptimizer(opts.optimizer ?? { name: 'adam' });
  const seed = opts.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RnnError('OPTION_INVALID', `createTrainer options.seed: expected a non-negative integer, got ${describeValue(seed)}`);
  const params = opts.weights === undefined ? initialParameters(model, { seed, ...opts.init }) : loadTrainingWeights(model, opts.weights);
  const backend = opts.backend ?? 'webgpu';
  if (backend !== 'webgpu' && backend !== 'cpu' && backend !== 'auto') throw new RnnError('OPTION_INVALID', `createTrainer options.backend: expected "webgpu", "cpu" or "auto", got ${describeValue(backend)}`);
  const strategy = chooseBackward(model.rnn, opts.strategy ?? 'auto'); // checked on every backend
  if (backend === 'cpu') return new TrainerImpl(model, optimizer, new CpuTrainer(model, params, seed));
  try {
    const ctx = await contextFor(opts.device);
    return new TrainerImpl(model, optimizer, new GpuTrainer(ctx, model, params, seed, strategy), opts.device);
  } catch (e) {
    if (backend === 'auto' && e instanceof RnnError && ['WEBGPU_UNAVAILABLE', 'WEBGPU_PACKAGE_MISSING', 'DEVICE_LOST'].includes(e.code)) {
      return new TrainerImpl(model, optimizer, new CpuTrainer(model, params, seed));
    }
    throw e;
  }
}

/**
 * The finite-difference gradient check of the float64 reference backward (src/reference/gradcheck.ts)
 * on a model, its weights and a batch: every parameter's relative error (≤ 1e-6 is a pass). Dropout is
 * off (a check needs a deterministic loss). Slow by nature: two forwards per parameter element.
 */
export function gradientCheck(options: { model: ModelConfigInput | ModelConfig; weights: Record<string, Tensor> | SafetensorsFile | Uint8Array; batch: TrainBatch }): GradcheckReport {
  const o = checkOptions<{ model: ModelConfigInput; weights: unknown; batch: TrainBatch }>('gradientCheck options', options, ['model', 'weights', 'batch']);
  if (o.model === undefined || o.batch === undefined) throw new RnnError('OPTION_INVALID', `gradientCheck options.${o.model === undefined ? 'model' : 'batch'}: missing`);
  const model = resolveModelConfig(o.model);
  return gradcheck(model, loadTrainingWeights(model, o.weights), prepareBatch(model, o.batch), { training: false, seed: 0 });
}

/** Weights by state_dict name, checked against the model: every parameter, its shape, nothing else. */
export function loadTrainingWeights(model: ModelConfig, source: unknown): Record<string, Float64Array> {
  const tensors = source instanceof Uint8Array ? readSafetensors(source).tensors
    : source !== null && typeof source === 'object' && 'tensors' in source && 'dtypes' in source ? (source as SafetensorsFile).tensors : source;
  if (tensors === null || typeof tensors !== 'object') throw new RnnError('WEIGHTS_INVALID', `weights: expected tensors by name or a safetensors file, got ${describeValue(source)}`);
  const problems: string[] = [];
  const out: Record<string, Float64Array> = {};
  const specs = modelParameterSpecs(model);
  for (const spec of specs) {
    const t = (tensors as Record<string, unknown>)[spec.name];
    if (t === undefined) {
      problems.push(`missing tensor ${spec.name} (expected shape [${spec.shape.join(', ')}])`);
      continue;
    }
    try {
      const f = checkFloatTensor(`tensor ${spec.name}`, t, 'WEIGHTS_INVALID');
      if (f.shape.join() !== spec.shape.join()) problems.push(`tensor ${spec.name}: expected shape [${spec.shape.join(', ')}], got [${f.shape.join(', ')}]`);
      else out[spec.name] = Float64Array.from(f.data);
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  const known = new Set(specs.map((s) => s.name));
  for (const name of Object.keys(tensors)) if (!known.has(name)) problems.push(`unexpected tensor ${name}`);
  if (problems.length) throw new RnnError('WEIGHTS_INVALID', `weights do not match the model:\n  ${problems.join('\n  ')}`);
  return out;
}

class TrainerImpl implements Trainer {
  private destroyed = false;

  constructor(readonly model: ModelConfig, readonly optimizer: OptimizerConfig, private readonly engine: CpuTrainer | GpuTrainer, private readonly device?: GPUDevice) {}

  get backend(): Backend {
    return this.engine instanceof GpuTrainer ? 'webgpu' : 'cpu';
  }

  get steps(): number {
    return this.engine instanceof GpuTrainer ? this.engine.steps : this.engine.stepsTaken;
  }

  private prepare(batch: TrainBatch): PreparedBatch {
    if (this.destroyed) throw new RnnError('DESTROYED', 'trainer: used after destroy()');
    return prepareBatch(this.model, batch);
  }

  async trainStep(batch: TrainBatch, options: { readLoss?: boolean; carryState?: boolean } = {}): Promise<TrainStepResult> {
    const prepared = this.prepare(batch);
    const { readLoss, carryState } = checkOptions<{ readLoss: boolean; carryState: boolean }>('trainStep options', options, ['readLoss', 'carryState']);
    if (carryState && (prepared.lengths || prepared.h0)) throw new RnnError('OPTION_INVALID', 'trainStep options.carryState: a batch that carries the state has no lengths and no h0 / c0 of its own');
    if (this.engine instanceof GpuTrainer) return this.engine.step(prepared, this.optimizer, readLoss ?? false, carryState ?? false);
    return this.engine.step(prepared, this.optimizer, carryState ?? false);
  }

  async evaluate(batch: TrainBatch, options: { carryState?: boolean } = {}): Promise<number> {
    const prepared = this.prepare(batch);
    const { carryState } = checkOptions<{ carryState: boolean }>('evaluate options', options, ['carryState']);
    if (this.engine instanceof GpuTrainer) return this.engine.evaluate(prepared, carryState ?? false);
    return this.engine.evaluate(prepared, carryState ?? false);
  }

  async predict(batch: Omit<TrainBatch, 'target'>, options: { carryState?: boolean } = {}): Promise<Tensor> {
    if (this.destroyed) throw new RnnError('DESTROYED', 'trainer: used after destroy()');
    if (batch === null || typeof batch !== 'object') throw new RnnError('TENSOR_INVALID', `batch: expected an object, got ${describeValue(batch)}`);
    if ('target' in batch && batch.target !== undefined) throw new RnnError('TENSOR_INVALID', 'predict: the batch has a target; predict takes none (evaluate gives the loss)');
    const { carryState } = checkOptions<{ carryState: boolean }>('predict options', options, ['carryState']);
    // The output's leading shape comes from the input's; a zero target of that shape lets the batch
    // be checked and prepared as for training.
    const model = this.model;
    const bf = model.rnn.batch_first;
    const lead = (batch.tokens ?? batch.input)?.shape;
    const [T, B] = lead && lead.length >= 2 ? (bf ? [lead[1], lead[0]] : [lead[0], lead[1]]) : [1, 1];
    const perStep = !model.head || model.head.on === 'output';
    const O = outputFeatures(model);
    const rows = perStep ? (bf ? [B, T] : [T, B]) : [B];
    const count = rows.reduce((a, b) => a * b, 1);
    const target = model.loss === 'cross_entropy' ? { shape: rows, data: new Int32Array(count) } : { shape: [...rows, O], data: new Float32Array(count * O) };
    const prepared = this.prepare({ ...batch, target } as TrainBatch);
    if (carryState && (prepared.lengths || prepared.h0)) throw new RnnError('OPTION_INVALID', 'predict options.carryState: a batch that carries the state has no lengths and no h0 / c0 of its own');
    const y = this.engine instanceof GpuTrainer ? await this.engine.predict(prepared, carryState ?? false) : this.engine.predict(prepared, carryState ?? false);
    const data = perStep && bf ? swapLeadingAxes(Float32Array.from(y), prepared.T, prepared.B, O) : Float32Array.from(y); // (T, B, O) → (B, T, O)
    return { shape: [...rows, O], data };
  }

  async gradients(batch: TrainBatch): Promise<GradientsResult> {
    const prepared = this.prepare(batch);
    const rnn = this.model.rnn;
    const D = numDirections(rnn);
    const Hout = outputSize(rnn);
    const H = rnn.hidden_size;
    const L = rnn.num_layers;
    const { B } = prepared;
    const shapes = Object.fromEntries(modelParameterSpecs(this.model).map((s) => [s.name, s.shape]));
    const asTensors = (g: Record<string, Float32Array | Float64Array>) => Object.fromEntries(Object.entries(g).map(([k, v]) => [k, { shape: shapes[k], data: v }]));
    if (this.engine instanceof GpuTrainer) {
      const r = await this.engine.gradients(prepared);
      // r.initial: per layer, dL/dh0 (D, B, H_out) then dL/dc0 (D, B, H).
      const per = D * B * (Hout + (rnn.mode === 'LSTM' ? H : 0));
      const h0 = new Float32Array(L * D * B * Hout);
      const c0 = rnn.mode === 'LSTM' ? new Float32Array(L * D * B * H) : undefined;
      for (let l = 0; l < L; l++) {
        h0.set(r.initial.subarray(l * per, l * per + D * B * Hout), l * D * B * Hout);
        c0?.set(r.initial.subarray(l * per + D * B * Hout, (l + 1) * per), l * D * B * H);
      }
      return { loss: r.loss!, gradNorm: r.gradNorm!, grads: asTensors(r.grads), h0: { shape: [L * D, B, Hout], data: h0 }, c0: c0 && { shape: [L * D, B, H], data: c0 } };
    }
    const r = this.engine.gradients(prepared, true);
    return {
      loss: r.loss, gradNorm: r.gradNorm, grads: asTensors(r.grads), h0: { shape: [L * D, B, Hout], data: r.h0 },
      c0: rnn.mode === 'LSTM' ? { shape: [L * D, B, H], data: r.c0 } : undefined,
    };
  }

  async gradientFlow(batch: TrainBatch): Promise<{ loss: number; flow: number[][] }> {
    const prepared = this.prepare(batch);
    if (!(this.engine instanceof GpuTrainer)) {
      const r = this.engine.gradients(prepared, false);
      return { loss: r.loss, flow: r.flow.map((f) => Array.from(f)) };
    }
    const r = await this.engine.gradients(prepared, true);
    // r.flow: per layer, dL/dh_t of (D, T, B, H_out).
    const rnn = this.model.rnn;
    const { T, B } = prepared;
    const D = numDirections(rnn);
    const Hout = outputSize(rnn);
    const flow = Array.from({ length: rnn.num_layers }, (_, l) => Array.from({ length: T }, (_, t) => {
      let s = 0;
      for (let d = 0; d < D; d++) {
        const base = ((l * D + d) * T + t) * B * Hout;
        for (let i = 0; i < B * Hout; i++) s += r.flow![base + i] ** 2;
      }
      return Math.sqrt(s);
    }));
    return { loss: r.loss!, flow };
  }

  async parameters(): Promise<Record<string, Tensor>> {
    if (this.destroyed) throw new RnnError('DESTROYED', 'trainer: used after destroy()');
    const shapes = Object.fromEntries(modelParameterSpecs(this.model).map((s) => [s.name, s.shape]));
    const p = this.engine instanceof GpuTrainer ? await this.engine.parameters() : this.engine.params;
    return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, { shape: shapes[k], data: Float32Array.from(v) }]));
  }

  async stateDict(): Promise<Uint8Array> {
    return writeSafetensors(await this.parameters(), { floatDtype: 'F32', metadata: { format: 'pt', model: JSON.stringify(this.model) } });
  }

  async toRnn(): Promise<Rnn> {
    const p = await this.parameters();
    return createRnn({ config: this.model.rnn, weights: p, prefix: 'rnn.', backend: this.backend, device: this.device });
  }

  diagnostics(): TrainerDiagnostics | undefined {
    if (!(this.engine instanceof GpuTrainer)) return undefined;
    const d = this.engine.diagnostics();
    return {
      heldBytes: d.heldBytes,
      strategy: this.engine.backward,
      plans: d.plans.map((p) => ({ T: p.T, B: p.B, dispatches: p.dispatches, activationBytes: p.activationBytes, minimumActivationBytes: minimumActivationBytes(this.model, p.T, p.B) })),
    };
  }

  fit(batches: readonly TrainBatch[], options?: FitOptions): Promise<FitReport> {
    return fit(this, batches, options);
  }

  async sample(prompt: ArrayLike<number>, options: SampleOptions = {}): Promise<number[]> {
    if (this.destroyed) throw new RnnError('DESTROYED', 'trainer: used after destroy()');
    const o = resolveSample(this.model, prompt, checkOptions<SampleOptions>('sample options', options, ['temperature', 'topK', 'maxTokens', 'seed']) as SampleOptions);
    if (this.engine instanceof GpuTrainer) return this.engine.sample(Int32Array.from(prompt), o);
    return sampleReference(this.model, this.engine.params, prompt, o);
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    if (this.engine instanceof GpuTrainer) await this.engine.destroy();
  }
}
