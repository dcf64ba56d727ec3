/**
 * What every benchmarked system implements. A workload is one shape with fixed random weights (by
 * PyTorch name, f32) and a random input; a system prepares once, then each `run` performs one
 * forward over the whole sequence and reads the output back to the host, so every system is timed
 * doing the same job.
 */
import type { DispatchProfile } from './dispatch-profile.js';
import type { GemmCensus } from './gemm-census.js';
import type { RnnConfig } from '../config.js';
import type { Weights } from '../params.js';
import type { Tensor } from '../tensor.js';
import type { BenchShape } from './shapes.js';

export type SystemName =
  | 'webgpu-rnn'
  | 'webgpu-rnn-f16'
  | 'tfjs-webgpu'
  | 'ort-webgpu'
  | 'cpu-reference'
  /** The ONNX file ort-webgpu runs, loaded by our loadOnnx: the ONNX row. */
  | 'webgpu-rnn-onnx'
  /** Training rows only (train.ts): our forward and loss alone, and PyTorch on the CPU or a CUDA GPU. */
  | 'webgpu-rnn-forward'
  | 'pytorch-cpu'
  | 'pytorch-cuda';

export interface Workload {
  readonly shape: BenchShape;
  readonly config: RnnConfig;
  /** PyTorch state_dict names and layouts, f32. */
  readonly weights: Weights;
  /** (T, B, I), time-major, f32. */
  readonly input: Tensor;
}

export interface PreparedSystem {
  /** One forward over the whole sequence; resolves with the output (T, B, D·H) time-major, on the host. */
  run(): Promise<Float32Array>;
  /** Anything a reader must know about what ran (e.g. which GRU variant). */
  readonly note?: string;
  /**
   * False when the system computes different equations than PyTorch (its error vs the reference is
   * then reported but not held against it).
   */
  readonly sameEquations?: boolean;
  /**
   * GPU bytes the system holds after its runs, where it can say (our engine reuses pooled buffers, so
   * counting the buffers created during the measurement would under-report it); else counted.
   */
  heldGpuBytes?(): number;
  dispose(): Promise<void> | void;
}

export interface BenchSystem {
  readonly name: SystemName;
  /**
   * Builds the system's model for the workload on `device` where the system can take a device, or on
   * the host's WebGPU (navigator.gpu) otherwise. Throws with a clear reason when unavailable.
   */
  prepare(workload: Workload, device: GPUDevice): Promise<PreparedSystem>;
}

/** One row of the JSON output (the contract), plus what a reader needs to trust it. */
export interface BenchRow {
  shape: string;
  system: SystemName;
  median_ms: number | null;
  min_ms: number | null;
  gflop: number;
  /** Achieved GFLOP/s at the median. */
  gflops: number | null;
  dispatches: number | null;
  gpu_bytes: number | null;
  max_rel_err: number | null;
  note?: string;
  /** Why the system has no figures for this shape. */
  error?: string;
  /** Our training step's GEMMs, each timed alone (gemm-census.ts). */
  gemm_census?: GemmCensus;
  /** With --profile, our engine's dispatches of one run, each timed alone (dispatch-profile.ts). */
  dispatch_profile?: DispatchProfile;
}
