/**
 * The public API's types: what a model, a stream and their options are. Both backends implement
 * these; `createRnn` (rnn.ts) builds them. Types only, so every module may import this one.
 */
import type { RnnConfig, RnnConfigInput } from './config.js';
import type { ForwardOptions, ForwardResult, PushOptions } from './inputs.js';
import type { Precision } from './gpu/wgsl.js';
import type { StrategyChoice } from './gpu/strategy.js';
import type { SafetensorsFile } from './safetensors.js';
import type { Tensor } from './tensor.js';
import type { Weights } from './params.js';

export type { ForwardOptions, ForwardResult, PushOptions } from './inputs.js';

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
