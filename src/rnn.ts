/**
 * The public model API: `createRnn` builds a model from a PyTorch-style configuration and state_dict
 * on either backend; both backends share input checks, result shapes and streaming semantics.
 */
import { CpuRnn } from './backends/cpu.js';
import { WebGpuRnn } from './backends/webgpu.js';
import { type RnnConfig, type RnnConfigInput, resolveConfig } from './config.js';
import { RnnError, describeValue } from './errors.js';
import { type ForwardOptions, type ForwardResult, type PushOptions, checkOptions, rejectNonFinite } from './inputs.js';
import { type Weights, checkWeights, selectPrefix, stripCommonPrefix } from './params.js';
import type { Precision } from './gpu/kernels.js';
import type { StrategyChoice } from './gpu/strategy.js';
import { type SafetensorsFile, isIntTensor, readSafetensors } from './safetensors.js';
import type { IntTensor, Tensor } from './tensor.js';

export type Backend = 'webgpu' | 'cpu';

export interface CreateRnnOptions {
  /** PyTorch constructor arguments (see RnnConfigInput), or an already resolved configuration. */
  config: RnnConfigInput | RnnConfig;
  /** The state_dict: tensors by PyTorch name, a decoded safetensors file, or a safetensors file's bytes. */
  weights: Weights | SafetensorsFile | Uint8Array;
  /** 'webgpu' (default), 'cpu' (float64 reference), or 'auto' (WebGPU when the host has it, else CPU). */
  backend?: Backend | 'auto';
  /** Run on this device (embedding in an existing WebGPU app); the engine's own device otherwise. */
  device?: GPUDevice;
  /**
   * WebGPU recurrent strategy: 'auto' (default) picks by shape and device; 'per-step' (1 + T
   * dispatches per layer, any shape), 'persistent' (2 per layer: input matmul + whole time loop in one
   * workgroup, small states) or 'fused' (1 per layer) force one — for tests and benchmarks. Forcing a
   * persistent kind on a shape it cannot run is an error at forward().
   */
  strategy?: StrategyChoice;
  /**
   * WebGPU weight storage: 'f32' (default) or 'f16' — half the weight memory and bandwidth, on any
   * adapter (read as f16 where the device has `shader-f16`, as packed words elsewhere). Inputs, state,
   * activations and every sum stay f32; only the weights are rounded to half. The CPU backend ignores
   * it (it is the float64 reference of the weights as given).
   */
  precision?: Precision;
  /**
   * Take only the weights whose names start with this prefix, stripped (`'encoder.rnn.'` for a parent
   * module's state_dict that also holds other modules' tensors). A file whose names all share one
   * prefix needs none: it is stripped on its own.
   */
  prefix?: string;
  /**
   * Reject NaN and ±Inf up front: in the weights when the model is created, in input / h0 / c0 at every
   * call (error code NON_FINITE, naming the tensor and element). Off by default: like PyTorch, a NaN
   * then propagates to the outputs it reaches.
   */
  checkFinite?: boolean;
}

const STRATEGIES: readonly StrategyChoice[] = ['auto', 'per-step', 'persistent', 'fused'];
const CREATE_OPTIONS = ['config', 'weights', 'backend', 'device', 'strategy', 'precision', 'prefix', 'checkFinite'] as const;

/** Initial state of a stream: as h0 / c0 of a forward call. */
export interface StreamState {
  h0?: Tensor;
  c0?: Tensor;
}

export interface StreamOptions extends StreamState {
  /** Batch rows fed per chunk (default 1). */
  batch?: number;
}

/**
 * A sequence fed in chunks: each push continues from the state the previous push left (on the GPU for
 * the WebGPU backend, with no read-back unless asked). Pushing a sequence in chunks gives the same
 * outputs as one forward over the whole sequence. Unidirectional models only.
 */
export interface RnnStream {
  readonly batch: number;
  /**
   * Feeds the next chunk, shaped like a forward input ([T, B, I], [B, T, I] with batch_first, or
   * [T, I] when batch is 1). `lengths` marks rows whose sequence ends inside this chunk (their state
   * stops there). Resolves to the chunk's output, or undefined with `read: false`.
   */
  push(chunk: Tensor, options?: PushOptions): Promise<Tensor | undefined>;
  /** Reads the current state: h_n [L, B, H_out] and c_n [L, B, H] (LSTM), as the pushes before it left it. */
  state(): Promise<Pick<ForwardResult, 'h_n' | 'c_n'>>;
  /**
   * Starts over from h0 / c0 (zeros where absent). Checked at once; takes effect after the pushes already
   * issued, so `push(a); reset(); push(b)` runs `a` from the old state and `b` from the new one.
   */
  reset(state?: StreamState): void;
  /** Frees the stream's state once the pushes already issued are done; later calls fail with code DESTROYED. */
  close(): void;
}

/**
 * A model. Calls on one model, and on one stream, run in the order they are made: each sees exactly the
 * state the calls before it left, as if each were awaited before the next (a rejected call changes
 * nothing). Bad arguments throw (or reject with) an RnnError naming the tensor or option.
 */
export interface Rnn {
  readonly config: RnnConfig;
  readonly backend: Backend;
  /** Runs a whole batch of sequences, like PyTorch's `module(input, hx)`. */
  forward(input: Tensor, options?: ForwardOptions): Promise<ForwardResult>;
  /** Opens a stream (chunked sequence with state kept between calls). */
  stream(options?: StreamOptions): RnnStream;
  /**
   * Frees the model's GPU memory once the calls already issued are done (the promise resolves then;
   * awaiting it is optional); later calls, and its streams', fail with code DESTROYED at once.
   */
  destroy(): Promise<void>;
}

/** Builds a model: checks the configuration and every weight tensor, then uploads (WebGPU) or keeps them. */
export async function createRnn(options: CreateRnnOptions): Promise<Rnn> {
  const opts = checkOptions<CreateRnnOptions>('createRnn options', options, CREATE_OPTIONS);
  if (opts.config === undefined) throw new RnnError('OPTION_INVALID', 'createRnn options.config: missing (PyTorch constructor arguments, e.g. { mode: "LSTM", input_size: 16, hidden_size: 32 })');
  if (opts.weights === undefined) throw new RnnError('OPTION_INVALID', 'createRnn options.weights: missing (a state_dict: tensors by name, a decoded safetensors file or its bytes)');
  const config = resolveConfig(opts.config as RnnConfigInput);
  const backend = opts.backend ?? 'webgpu';
  if (backend !== 'webgpu' && backend !== 'cpu' && backend !== 'auto') {
    throw new RnnError('OPTION_INVALID', `createRnn options.backend: expected "webgpu", "cpu" or "auto", got ${describeValue(backend)}`);
  }
  // Checked whatever the backend, so a typo fails on the CPU backend as it would on WebGPU.
  if (opts.strategy !== undefined && !STRATEGIES.includes(opts.strategy)) {
    throw new RnnError('OPTION_INVALID', `createRnn options.strategy: expected "auto", "per-step", "persistent" or "fused", got ${describeValue(opts.strategy)}`);
  }
  if (opts.precision !== undefined && opts.precision !== 'f32' && opts.precision !== 'f16') {
    throw new RnnError('OPTION_INVALID', `createRnn options.precision: expected "f32" or "f16", got ${describeValue(opts.precision)}`);
  }
  if (opts.checkFinite !== undefined && typeof opts.checkFinite !== 'boolean') {
    throw new RnnError('OPTION_INVALID', `createRnn options.checkFinite: expected true or false, got ${describeValue(opts.checkFinite)}`);
  }
  if (opts.device !== undefined && !looksLikeDevice(opts.device)) {
    throw new RnnError('OPTION_INVALID', `createRnn options.device: expected a GPUDevice, got ${describeValue(opts.device)}`);
  }
  const checkFinite = opts.checkFinite ?? false;
  const weights = loadWeights(config, opts.weights, opts.prefix);
  if (checkFinite) for (const [name, t] of Object.entries(weights)) rejectNonFinite(`weights ${name}`, t.data);
  const cpu = () => new CpuRnn(config, weights, checkFinite);
  if (backend === 'cpu') return cpu();
  const gpu = () => WebGpuRnn.create(config, weights, { device: opts.device, strategy: opts.strategy, precision: opts.precision, checkFinite });
  if (backend === 'webgpu') return gpu();
  try {
    return await gpu();
  } catch (e) {
    // 'auto' falls back only where the host has no usable WebGPU; a caller's mistake is still an error.
    if (e instanceof RnnError && !['WEBGPU_UNAVAILABLE', 'WEBGPU_PACKAGE_MISSING', 'DEVICE_LOST'].includes(e.code)) throw e;
    return cpu();
  }
}

function looksLikeDevice(value: unknown): value is GPUDevice {
  return value !== null && typeof value === 'object' && typeof (value as GPUDevice).createBuffer === 'function' && typeof (value as GPUDevice).queue === 'object';
}

function loadWeights(config: RnnConfig, source: unknown, prefix: string | undefined): Weights {
  if (source instanceof ArrayBuffer) {
    throw new RnnError('WEIGHTS_INVALID', `weights: got an ArrayBuffer of ${source.byteLength} bytes; pass a safetensors file's bytes as a Uint8Array (new Uint8Array(buffer))`);
  }
  if (source === null || typeof source !== 'object' || Array.isArray(source) || (ArrayBuffer.isView(source) && !(source instanceof Uint8Array))) {
    throw new RnnError('WEIGHTS_INVALID', `weights: expected tensors by name, a decoded safetensors file or its bytes (Uint8Array), got ${describeValue(source)}`);
  }
  const file = source instanceof Uint8Array ? readSafetensors(source) : source;
  const tensors: Record<string, unknown> =
    'tensors' in file && typeof file.tensors === 'object' && file.tensors !== null && 'dtypes' in file ? (file as SafetensorsFile).tensors : (file as Record<string, unknown>);
  for (const [name, t] of Object.entries(tensors)) {
    if (t !== null && typeof t === 'object' && isIntTensor(t as IntTensor)) {
      throw new RnnError('WEIGHTS_INVALID', `tensor ${name}: weights must be floating point, got an integer tensor`);
    }
  }
  const selected = prefix === undefined ? stripCommonPrefix(config, tensors as Weights) : selectPrefix(tensors as Weights, prefix);
  checkWeights(config, selected);
  return selected;
}
