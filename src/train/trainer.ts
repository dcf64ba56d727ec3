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
import { checkOptions, rejectNonFinite, swapLeadingAxes } from '../inputs.js';
import { type Rnn, createRnn } from '../rnn.js';
import { type SafetensorsFile, writeSafetensors } from '../safetensors.js';
import type { IntTensor, Tensor } from '../tensor.js';
import { type PreparedBatch, type TrainBatch, prepareBatch } from './batch.js';
import { type ModelConfig, type ModelConfigInput, type TrainableConfig, type TrainableConfigInput, resolveTrainableConfig } from './config.js';
import { type Seq2SeqConfig, type Seq2SeqConfigInput, isSeq2Seq } from './seq2seq-config.js';
import { LOSSES } from './losses/index.js';
import { modelOutputFeatures, modelParameterSpecs, trainModel } from './model.js';
import { loadTrainingWeights } from './weights.js';
import { CpuTrainer } from './cpu-trainer.js';
import type { EngineSnapshot, TrainEngine } from './engine.js';
import type { GemmShape } from '../gpu/ops/gemm.js';
import { type FitState, checkpointSnapshot, readCheckpointHeader, writeCheckpoint } from './checkpoint.js';
import { GpuTrainer, checkTrainerFits, chooseBackward } from './gpu-trainer.js';
import type { BackwardStrategy } from '../gpu/ops/backward.js';
import { attentiveUnfit } from '../gpu/ops/attentive-decoder.js';
import { minimumActivationBytes } from './plan.js';
import { type InitOptions, initialParameters } from './init.js';
import { type OptimizerConfig, type OptimizerConfigInput, PlateauSchedule, type PlateauState, learningRate, resolveOptimizer } from './optim.js';
import { type FitOptions, type FitReport, fit } from './fit.js';
import { type SampleOptions, resolveSample } from './sample.js';
import { type DecodeOptions, type DecodeResult, assembleDecode, prepareDecodeSource, resolveDecode } from './decode.js';
import { numDirections, outputSize } from '../config.js';
import { MAX_ELEMENTS } from '../inputs.js';
import { type GradcheckReport, gradcheck } from './gradcheck.js';

export interface CreateTrainerOptions {
  /**
   * The model (src/train/config.ts: embedding → rnn → head; seq2seq-config.ts: an encoder–decoder with
   * attention), or an already resolved one. Required but with `resume` (the checkpoint's).
   */
  model?: TrainableConfigInput | TrainableConfig;
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
  /**
   * Reject NaN and ±Inf in the starting weights and in every batch's input, h0, c0 and float target
   * (NON_FINITE, naming the tensor and the element). Off by default (a scan of every batch).
   */
  checkFinite?: boolean;
  /**
   * A checkpoint (trainer.checkpoint()) to continue from: its model, optimizer, seed, parameters,
   * optimizer state, step count and carried states. `model`, `optimizer` and `seed` may be left out (the
   * checkpoint's are taken) or must equal the checkpoint's; not with `weights` or `init`.
   */
  resume?: Uint8Array | SafetensorsFile;
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
    /** Bytes of what the forward keeps for the backward pass, and (embedding → rnn → head models) the least that could be kept (minimumActivationBytes). */
    activationBytes: number;
    minimumActivationBytes?: number;
    /**
     * The embeddings' outputs (e.g. `embedding.output`) whose table the recurrent layer reading them
     * took: its input projection made for each vocabulary entry and gathered by id, its backward summed
     * per id — chosen where the vocabulary is under half the batch's positions.
     */
    tablesTaken: string[];
    /** Every GEMM of one step (forward and backward), in recording order: its label, sizes, operand layout and alignment. */
    gemms: GemmShape[];
  }>;
}

export interface Trainer<M extends TrainableConfig = ModelConfig> {
  readonly model: M;
  readonly backend: Backend;
  readonly optimizer: OptimizerConfig;
  /** Steps taken so far. */
  readonly steps: number;
  /**
   * One step: forward, loss, backward, clipping, the optimizer's update, the schedule's step. The loss
   * is read back only with `readLoss`. `carryState` starts from the final state of the previous
   * training step (detached: truncated backpropagation through time over consecutive windows of a
   * text); evaluate and predict never move that state (src/train/engine.ts).
   *
   * A step whose loss or gradient norm is not finite makes no update, and neither do the steps after
   * it until the loss is read: that trainStep then rejects with NON_FINITE naming the step, and the
   * trainer stands at the step before it (parameters, optimizer state, `steps`), ready to go on.
   */
  trainStep(batch: TrainBatch, options?: { readLoss?: boolean; carryState?: boolean }): Promise<TrainStepResult>;
  /** The loss in evaluation mode (no dropout, no update). `carryState` continues the previous evaluate / predict. */
  evaluate(batch: TrainBatch, options?: { carryState?: boolean }): Promise<number>;
  /**
   * The model's output in evaluation mode for a batch without a target: the head's ([T, B, O], or
   * [B, T, O] with batch_first; [B, O] on h_n), or the last layer's without a head. For a language
   * model these are the logits of the next token at every position. `carryState` continues the
   * previous evaluate / predict (feeding a text piece by piece), never the training state.
   * Float32Array on WebGPU, Float64Array on the CPU backend.
   */
  predict(batch: Omit<TrainBatch, 'target'>, options?: { carryState?: boolean }): Promise<Tensor>;
  gradients(batch: TrainBatch): Promise<GradientsResult>;
  /** ‖∂L/∂h_t‖ for every layer l and step t (both directions, the whole batch): flow[l][t]. */
  gradientFlow(batch: TrainBatch): Promise<{ loss: number; flow: number[][] }>;
  /** The parameters by state_dict name (Float32Array on WebGPU, Float64Array on the CPU backend). */
  parameters(): Promise<Record<string, Tensor>>;
  /** The weights as a safetensors file (F32, state_dict names). */
  stateDict(): Promise<Uint8Array>;
  /**
   * The plateau schedule's step (ReduceLROnPlateau.step(metric)): observes a validation loss and lowers
   * the learning rate when it has stalled. fit calls it after each validation; an error with any other
   * schedule (they follow the optimizer's steps).
   */
  plateauStep(validationLoss: number): void;
  /** The learning rate the next step uses (the schedule's, or the plateau's). */
  readonly learningRate: number;
  /**
   * Everything needed to continue this run exactly (checkpoint.ts): the weights, the optimizer's state,
   * the steps, the seed, the carried states, the model and optimizer — one safetensors file, which
   * createTrainer({ resume }) continues from. `metadata` adds string entries of the caller's own.
   */
  checkpoint(options?: { metadata?: Record<string, string>; fit?: FitState }): Promise<Uint8Array>;
  /**
   * fit's early-stopping state as the resumed checkpoint held it (fit writes it into the checkpoints it
   * takes while validating); fit continues from it when its startStep is the checkpoint's step, so a
   * resumed run stops early, and restores the best weights, where the uninterrupted run would have.
   */
  readonly resumedFit?: FitState & { step: number };
  /** The trained recurrent module as an inference model (forward, stream), on the same backend. */
  toRnn(): Promise<Rnn>;
  /** WebGPU: the GPU memory and per-step dispatches (undefined on the CPU backend). */
  diagnostics(): TrainerDiagnostics | undefined;
  /** Epochs over `batches` with progress, validation and early stopping (fit.ts). */
  fit(batches: readonly TrainBatch[], options?: FitOptions): Promise<FitReport>;
  /** A language model's continuation of `prompt` (token ids): sampled on the GPU (sample.ts). */
  sample(prompt: ArrayLike<number>, options?: SampleOptions): Promise<number[]>;
  /**
   * An encoder–decoder's translation of `source` ([S, B] ids): greedy, or beam search with `beam` K
   * (decode.ts has the rules), on the trainer's backend; per row the tokens, their count, the summed
   * log-probability and the attention over the source.
   */
  decode(source: IntTensor, options: DecodeOptions): Promise<DecodeResult>;
  destroy(): Promise<void>;
}

const TRAINER_OPTIONS = ['model', 'optimizer', 'weights', 'init', 'backend', 'device', 'seed', 'strategy', 'checkFinite', 'resume'] as const;

/**
 * The most parameters the CPU backend trains: it keeps about 64 bytes of each (float64 parameters,
 * gradients, three optimizer-state vectors and the flat working copies), 4 GiB at this cap.
 */
export const MAX_CPU_PARAMETERS = 1 << 26;

/**
 * Checks, before anything is allocated, that every parameter tensor is within the element cap of one
 * tensor (MAX_ELEMENTS, as for inputs) and, on the CPU, the model within MAX_CPU_PARAMETERS.
 */
function checkModelSize(model: TrainableConfig, backend: Backend): void {
  let total = 0;
  for (const spec of modelParameterSpecs(model)) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    total += n;
    if (n > MAX_ELEMENTS) {
      throw new RnnError(
        'LIMIT_EXCEEDED',
        `model: parameter ${spec.name} [${spec.shape.join(', ')}] has ${n} elements (${4 * n} bytes as f32, ${8 * n} as float64), above the ${MAX_ELEMENTS} one tensor may have; make the model smaller`,
      );
    }
  }
  if (backend === 'cpu' && total > MAX_CPU_PARAMETERS) {
    throw new RnnError(
      'LIMIT_EXCEEDED',
      `model: ${total} parameters would need about ${64 * total} bytes on the CPU backend (float64 parameters, gradients and optimizer state), above its ${64 * MAX_CPU_PARAMETERS}; use backend "webgpu" or a smaller model`,
    );
  }
}

export async function createTrainer(options: CreateTrainerOptions & { model: ModelConfigInput | ModelConfig }): Promise<Trainer<ModelConfig>>;
export async function createTrainer(options: CreateTrainerOptions & { model: Seq2SeqConfigInput | Seq2SeqConfig }): Promise<Trainer<Seq2SeqConfig>>;
export async function createTrainer(options: CreateTrainerOptions): Promise<Trainer<TrainableConfig>>;
export async function createTrainer(options: CreateTrainerOptions): Promise<Trainer<TrainableConfig>> {
  const opts = checkOptions<CreateTrainerOptions>('createTrainer options', options, TRAINER_OPTIONS);
  const resume = opts.resume === undefined ? undefined : readCheckpointHeader(opts.resume);
  if (resume) {
    for (const key of ['weights', 'init'] as const)
      if (opts[key] !== undefined) throw new RnnError('OPTION_INVALID', `createTrainer options.${key}: not with resume (the checkpoint holds the weights)`);
  }
  if (opts.model === undefined && !resume) throw new RnnError('OPTION_INVALID', 'createTrainer options.model: missing');
  const model = resolveTrainableConfig((opts.model ?? resume!.model) as TrainableConfigInput);
  const optimizer = resolveOptimizer(opts.optimizer ?? resume?.optimizer ?? { name: 'adam' });
  const seed = opts.seed ?? resume?.seed ?? 0;
  let snapshot: (EngineSnapshot & { fitBest?: Record<string, Tensor> }) | undefined;
  if (resume) {
    // What is given must be what the checkpoint was made with: another model, optimizer or seed would not continue the run.
    const same = (what: string, given: unknown, saved: unknown) => {
      if (JSON.stringify(given) !== JSON.stringify(saved))
        throw new RnnError(
          'OPTION_INVALID',
          `createTrainer options.${what}: differs from the resumed checkpoint's (${JSON.stringify(saved)}); leave it out to continue the run`,
        );
    };
    same('model', model, resolveTrainableConfig(resume.model as TrainableConfigInput));
    same('optimizer', optimizer, resolveOptimizer(resume.optimizer));
    same('seed', seed, resume.seed);
    snapshot = checkpointSnapshot(resume, model, optimizer);
  }
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new RnnError('OPTION_INVALID', `createTrainer options.seed: expected a non-negative integer, got ${describeValue(seed)}`);
  if (opts.checkFinite !== undefined && typeof opts.checkFinite !== 'boolean')
    throw new RnnError('OPTION_INVALID', `createTrainer options.checkFinite: expected true or false, got ${describeValue(opts.checkFinite)}`);
  const checkFinite = opts.checkFinite ?? false;
  const backend = opts.backend ?? 'webgpu';
  if (backend !== 'webgpu' && backend !== 'cpu' && backend !== 'auto')
    throw new RnnError('OPTION_INVALID', `createTrainer options.backend: expected "webgpu", "cpu" or "auto", got ${describeValue(backend)}`);
  // Checked on every backend; on the GPU 'auto' stays 'auto', so that each plan chooses with its batch size
  // and the adapter (chooseBackward).
  chooseBackward(trainModel(model).recurrent.config, opts.strategy ?? 'auto');
  checkModelSize(model, 'webgpu');
  const params = () => {
    const p = snapshot
      ? Object.fromEntries(Object.entries(snapshot.params).map(([k, v]) => [k, Float64Array.from(v)]))
      : opts.weights === undefined
        ? initialParameters(model, { seed, ...opts.init })
        : loadTrainingWeights(model, opts.weights);
    if (checkFinite) for (const [name, t] of Object.entries(p)) rejectNonFinite(`weights ${name}`, t);
    return p;
  };
  // A resumed engine stands where the checkpoint was made before the trainer is handed out.
  const start = async (engine: TrainEngine, device?: GPUDevice) => {
    if (snapshot) {
      try {
        await engine.restore(snapshot);
      } catch (e) {
        await engine.destroy();
        throw e;
      }
    }
    const resumedFit = resume?.fit && { ...resume.fit, step: resume.steps, bestParams: snapshot?.fitBest };
    return new TrainerImpl(model, optimizer, engine, checkFinite, seed, device, resume?.plateau, resumedFit);
  };
  const onCpu = () => {
    checkModelSize(model, 'cpu');
    return start(new CpuTrainer(model, params(), seed));
  };
  if (backend === 'cpu') return onCpu();
  const unfit = isSeq2Seq(model) && model.attention.placement === 'before' ? attentiveUnfit(model.decoder) : undefined;
  if (unfit) {
    // The attentive decoder kernel's limits (gpu/ops/attentive-decoder.ts); the float64 engine has none.
    if (backend === 'auto') return onCpu();
    throw new RnnError(
      'OPTION_INVALID',
      `createTrainer options.backend: the decoder with attention "before" it runs on WebGPU but not with ${unfit}; use backend "cpu"`,
    );
  }
  let ctx: Awaited<ReturnType<typeof contextFor>>;
  try {
    ctx = await contextFor(opts.device);
  } catch (e) {
    if (backend === 'auto' && e instanceof RnnError && ['WEBGPU_UNAVAILABLE', 'WEBGPU_PACKAGE_MISSING', 'DEVICE_LOST'].includes(e.code)) return onCpu();
    throw e;
  }
  checkTrainerFits(model, ctx.limits);
  return start(new GpuTrainer(ctx, model, params(), seed, opts.strategy ?? 'auto'), opts.device);
}

/**
 * The finite-difference gradient check of the float64 reference backward (gradcheck.ts)
 * on a model, its weights and a batch: every parameter's relative error (≤ 1e-6 is a pass). Dropout is
 * off (a check needs a deterministic loss). Slow by nature: two forwards per parameter element.
 */
export function gradientCheck(options: {
  model: TrainableConfigInput | TrainableConfig;
  weights: Record<string, Tensor> | SafetensorsFile | Uint8Array;
  batch: TrainBatch;
}): GradcheckReport {
  const o = checkOptions<{ model: ModelConfigInput; weights: unknown; batch: TrainBatch }>('gradientCheck options', options, ['model', 'weights', 'batch']);
  if (o.model === undefined || o.batch === undefined)
    throw new RnnError('OPTION_INVALID', `gradientCheck options.${o.model === undefined ? 'model' : 'batch'}: missing`);
  const model = resolveTrainableConfig(o.model);
  return gradcheck(model, loadTrainingWeights(model, o.weights), prepareBatch(model, o.batch), { training: false, seed: 0 });
}

class TrainerImpl implements Trainer<TrainableConfig> {
  private destroyed = false;
  /** ReduceLROnPlateau's state, with that schedule. */
  private readonly plateau?: PlateauSchedule;

  constructor(
    readonly model: TrainableConfig,
    readonly optimizer: OptimizerConfig,
    private readonly engine: TrainEngine,
    private readonly checkFinite: boolean,
    private readonly seed: number,
    private readonly device?: GPUDevice,
    plateau?: PlateauState,
    readonly resumedFit?: FitState & { step: number },
  ) {
    const s = optimizer.lr_schedule;
    if (s?.name === 'plateau') {
      this.plateau = new PlateauSchedule(s, optimizer.lr);
      if (plateau) this.plateau.state = { ...plateau };
    }
  }

  /** The optimizer as the next step runs it: with the plateau's rate in place of lr₀. */
  private stepOptimizer(): OptimizerConfig {
    return this.plateau ? { ...this.optimizer, lr: this.plateau.state.lr, lr_schedule: undefined } : this.optimizer;
  }

  get learningRate(): number {
    return learningRate(this.stepOptimizer(), this.engine.steps);
  }

  plateauStep(validationLoss: number): void {
    this.alive();
    if (!this.plateau)
      throw new RnnError(
        'OPTION_INVALID',
        `plateauStep: the optimizer's schedule is ${this.optimizer.lr_schedule ? `"${this.optimizer.lr_schedule.name}"` : 'none'}, not "plateau" (only ReduceLROnPlateau observes a validation loss)`,
      );
    if (typeof validationLoss !== 'number' || Number.isNaN(validationLoss))
      throw new RnnError('OPTION_INVALID', `plateauStep: expected a validation loss, got ${describeValue(validationLoss)}`);
    this.plateau.step(validationLoss);
  }

  get backend(): Backend {
    return this.engine.backend;
  }

  get steps(): number {
    return this.engine.steps;
  }

  private alive(): void {
    if (this.destroyed) throw new RnnError('DESTROYED', 'trainer: used after destroy()');
  }

  private prepare(batch: TrainBatch): PreparedBatch {
    this.alive();
    return prepareBatch(this.model, batch, this.checkFinite);
  }

  async trainStep(batch: TrainBatch, options: { readLoss?: boolean; carryState?: boolean } = {}): Promise<TrainStepResult> {
    const prepared = this.prepare(batch);
    const { readLoss, carryState } = checkOptions<{ readLoss: boolean; carryState: boolean }>('trainStep options', options, ['readLoss', 'carryState']);
    if (carryState) noOwnState('trainStep', prepared);
    return this.engine.step(prepared, this.stepOptimizer(), { readLoss: readLoss ?? false, carry: carryState ?? false });
  }

  async evaluate(batch: TrainBatch, options: { carryState?: boolean } = {}): Promise<number> {
    const prepared = this.prepare(batch);
    const { carryState } = checkOptions<{ carryState: boolean }>('evaluate options', options, ['carryState']);
    if (carryState) noOwnState('evaluate', prepared);
    return this.engine.evaluate(prepared, carryState ?? false);
  }

  async predict(batch: Omit<TrainBatch, 'target'>, options: { carryState?: boolean } = {}): Promise<Tensor> {
    this.alive();
    if (batch === null || typeof batch !== 'object') throw new RnnError('TENSOR_INVALID', `batch: expected an object, got ${describeValue(batch)}`);
    if ('target' in batch && batch.target !== undefined)
      throw new RnnError('TENSOR_INVALID', 'predict: the batch has a target; predict takes none (evaluate gives the loss)');
    const { carryState } = checkOptions<{ carryState: boolean }>('predict options', options, ['carryState']);
    // The output's leading shape comes from the input's; a zero target of that shape lets the batch
    // be checked and prepared as for training.
    const model = this.model;
    if (isSeq2Seq(model)) {
      // The logits of every target step: [T, B, target vocabulary].
      const shape = batch.target_in?.shape ?? [1, 1];
      const rows = [shape[0] ?? 1, shape[1] ?? 1];
      const prepared = this.prepare({ ...batch, target: { shape: rows, data: new Int32Array(rows[0] * rows[1]) } } as TrainBatch);
      if (carryState) throw new RnnError('OPTION_INVALID', 'predict options.carryState: an encoder–decoder carries no state between batches');
      return { shape: [...rows, model.target_embedding.num_embeddings], data: await this.engine.predict(prepared, false) };
    }
    const bf = model.rnn.batch_first;
    const lead = (batch.tokens ?? batch.input)?.shape;
    const [T, B] = lead && lead.length >= 2 ? (bf ? [lead[1], lead[0]] : [lead[0], lead[1]]) : [1, 1];
    const perStep = !model.head || model.head.on === 'output';
    const O = modelOutputFeatures(model);
    const rows = perStep ? (bf ? [B, T] : [T, B]) : [B];
    const count = rows.reduce((a, b) => a * b, 1);
    const target =
      LOSSES[model.loss].targets === 'classes' ? { shape: rows, data: new Int32Array(count) } : { shape: [...rows, O], data: new Float32Array(count * O) };
    const prepared = this.prepare({ ...batch, target } as TrainBatch);
    if (carryState) noOwnState('predict', prepared);
    const y = await this.engine.predict(prepared, carryState ?? false);
    return { shape: [...rows, O], data: perStep && bf ? swapLeadingAxes(y, prepared.T, prepared.B, O) : y }; // (T, B, O) → (B, T, O)
  }

  async gradients(batch: TrainBatch): Promise<GradientsResult> {
    const prepared = this.prepare(batch);
    const rnn = trainModel(this.model).recurrent.config;
    const LD = rnn.num_layers * numDirections(rnn);
    const { B } = prepared;
    const r = await this.engine.gradients(prepared, { flow: false });
    const shapes = Object.fromEntries(modelParameterSpecs(this.model).map((s) => [s.name, s.shape]));
    return {
      loss: r.loss,
      gradNorm: r.gradNorm,
      grads: Object.fromEntries(Object.entries(r.grads).map(([k, v]) => [k, { shape: shapes[k], data: v }])),
      h0: { shape: [LD, B, outputSize(rnn)], data: r.h0 },
      c0: r.c0 && { shape: [LD, B, rnn.hidden_size], data: r.c0 },
    };
  }

  async gradientFlow(batch: TrainBatch): Promise<{ loss: number; flow: number[][] }> {
    const r = await this.engine.gradients(this.prepare(batch), { flow: true });
    return { loss: r.loss, flow: r.flow! };
  }

  async parameters(): Promise<Record<string, Tensor>> {
    this.alive();
    const shapes = Object.fromEntries(modelParameterSpecs(this.model).map((s) => [s.name, s.shape]));
    return Object.fromEntries(Object.entries(await this.engine.parameters()).map(([k, v]) => [k, { shape: shapes[k], data: v }]));
  }

  async checkpoint(options: { metadata?: Record<string, string>; fit?: FitState } = {}): Promise<Uint8Array> {
    this.alive();
    const { metadata, fit } = checkOptions<{ metadata: Record<string, string>; fit: FitState }>('checkpoint options', options, ['metadata', 'fit']);
    if (metadata !== undefined && (metadata === null || typeof metadata !== 'object' || Object.values(metadata).some((v) => typeof v !== 'string')))
      throw new RnnError('OPTION_INVALID', `checkpoint options.metadata: expected an object of strings, got ${describeValue(metadata)}`);
    const count = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
    if (fit !== undefined && (typeof fit?.best !== 'number' || Number.isNaN(fit.best) || !count(fit.bestStep) || !count(fit.stale)))
      throw new RnnError('OPTION_INVALID', `checkpoint options.fit: expected fit's state { best, bestStep, stale, bestParams? }, got ${describeValue(fit)}`);
    return writeCheckpoint(
      { model: this.model, optimizer: this.optimizer, seed: this.seed, backend: this.backend, extra: metadata, plateau: this.plateau?.state, fit },
      await this.engine.snapshot(),
    );
  }

  async stateDict(): Promise<Uint8Array> {
    return writeSafetensors(await this.parameters(), { floatDtype: 'F32', metadata: { format: 'pt', model: JSON.stringify(this.model) } });
  }

  async toRnn(): Promise<Rnn> {
    if (isSeq2Seq(this.model))
      throw new RnnError(
        'OPTION_INVALID',
        'toRnn: an encoder–decoder is two recurrent modules with attention; take the weights with parameters() (encoder.*, decoder.*)',
      );
    const p = await this.parameters();
    return createRnn({ config: this.model.rnn, weights: p, prefix: 'rnn.', backend: this.backend, device: this.device });
  }

  diagnostics(): TrainerDiagnostics | undefined {
    const d = this.engine.diagnostics();
    if (!d) return undefined;
    const model = this.model;
    if (isSeq2Seq(model)) return d;
    return { ...d, plans: d.plans.map((p) => ({ ...p, minimumActivationBytes: minimumActivationBytes(model, p.T, p.B) })) };
  }

  /** fit's restoreBest: these parameters, everything else (optimizer state, steps, carries) as it is. */
  async setParameters(params: Record<string, Tensor>): Promise<void> {
    this.alive();
    const now = await this.engine.snapshot();
    await this.engine.restore({ ...now, params: Object.fromEntries(Object.entries(params).map(([k, t]) => [k, Float64Array.from(t.data)])) });
  }

  fit(batches: readonly TrainBatch[], options?: FitOptions): Promise<FitReport> {
    return fit(this, batches, options);
  }

  async sample(prompt: ArrayLike<number>, options: SampleOptions = {}): Promise<number[]> {
    this.alive();
    if (isSeq2Seq(this.model))
      throw new RnnError('OPTION_INVALID', 'sample: an encoder–decoder decodes a source (trainer.decode), it does not continue a prompt');
    const o = resolveSample(
      this.model,
      prompt,
      checkOptions<SampleOptions>('sample options', options, ['temperature', 'topK', 'maxTokens', 'seed']) as SampleOptions,
    );
    return this.engine.sample(Int32Array.from(prompt), o);
  }

  async decode(source: IntTensor, options: DecodeOptions): Promise<DecodeResult> {
    this.alive();
    if (!isSeq2Seq(this.model))
      throw new RnnError('OPTION_INVALID', 'decode: only an encoder–decoder decodes a source; a language model continues a prompt (trainer.sample)');
    if (options === null || typeof options !== 'object')
      throw new RnnError('OPTION_INVALID', `decode options: expected { bos, eos, maxLength, beam?, sourceLengths? }, got ${describeValue(options)}`);
    const o = resolveDecode(this.model, options);
    const prepared = prepareDecodeSource(trainModel(this.model), source, options.sourceLengths, o.beam);
    return assembleDecode(await this.engine.decode(prepared, o), o, prepared.sourceLengths);
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    await this.engine.destroy();
  }
}

/** A carried call starts from the carried state, so its batch brings none of its own. */
function noOwnState(call: string, batch: PreparedBatch): void {
  if (batch.source) throw new RnnError('OPTION_INVALID', `${call} options.carryState: an encoder–decoder carries no state between batches`);
  if (batch.lengths || batch.h0 || batch.c0) {
    throw new RnnError('OPTION_INVALID', `${call} options.carryState: a batch that carries the state has no lengths and no h0 / c0 of its own`);
  }
}
