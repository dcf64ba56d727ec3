/**
 * The public model API: `createRnn` builds a model from a PyTorch-style configuration and state_dict
 * on either backend; both backends share input checks, result shapes and streaming semantics.
 */
import { CpuRnn } from './backends/cpu.js';
import { WebGpuRnn } from './backends/webgpu.js';
import { type RnnConfig, type RnnConfigInput, resolveConfig } from './config.js';
import type { ForwardOptions, ForwardResult } from './inputs.js';
import { type Weights, checkWeights, stripCommonPrefix } from './params.js';
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
}

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
  push(chunk: Tensor, options?: { lengths?: ForwardOptions['lengths']; read?: boolean }): Promise<Tensor | undefined>;
  /** Reads the current state: h_n [L, B, H_out] and c_n [L, B, H] (LSTM). */
  state(): Promise<Pick<ForwardResult, 'h_n' | 'c_n'>>;
  /** Starts over from h0 / c0 (zeros where absent). */
  reset(state?: StreamState): void;
  /** Frees the stream's state. */
  close(): void;
}

export interface Rnn {
  readonly config: RnnConfig;
  readonly backend: Backend;
  /** Runs a whole batch of sequences, like PyTorch's `module(input, hx)`. */
  forward(input: Tensor, options?: ForwardOptions): Promise<ForwardResult>;
  /** Opens a stream (chunked sequence with state kept between calls). */
  stream(options?: StreamOptions): RnnStream;
  /** Frees the model's GPU memory. */
  destroy(): void;
}

/** Builds a model: checks the configuration and every weight tensor, then uploads (WebGPU) or keeps them. */
export async function createRnn(options: CreateRnnOptions): Promise<Rnn> {
  const config = resolveConfig(options.config as RnnConfigInput);
  const weights = loadWeights(config, options.weights);
  const backend = options.backend ?? 'webgpu';
  if (backend === 'cpu') return new CpuRnn(config, weights);
  const gpu = () => WebGpuRnn.create(config, weights, options.device, options.strategy, options.precision);
  if (backend === 'webgpu') return gpu();
  if (backend === 'auto') {
    try {
      return await gpu();
    } catch {
      return new CpuRnn(config, weights);
    }
  }
  throw new RangeError(`backend: expected "webgpu", "cpu" or "auto", got ${JSON.stringify(backend)}`);
}

function loadWeights(config: RnnConfig, source: CreateRnnOptions['weights']): Weights {
  const file = source instanceof Uint8Array ? readSafetensors(source) : source;
  const tensors: Record<string, Tensor | IntTensor> =
    'tensors' in file && typeof file.tensors === 'object' && 'dtypes' in file ? (file as SafetensorsFile).tensors : (file as Weights);
  for (const [name, t] of Object.entries(tensors)) {
    if (isIntTensor(t)) throw new TypeError(`tensor ${name}: weights must be floating point, got an integer tensor`);
  }
  const weights = stripCommonPrefix(config, tensors as Weights);
  checkWeights(config, weights);
  return weights;
}
