/**
 * What a model holds and how it runs, for tests, benchmarks and apps that watch their GPU memory —
 * the sanctioned way to look inside a model instead of reaching into backend classes.
 */
import { WebGpuRnn } from './backends/webgpu.js';
import type { GpuDiagnostics } from './gpu/context.js';
import { contextFor } from './gpu/device.js';
import type { WeightFormat } from './gpu/wgsl.js';
import type { Strategy } from './gpu/strategy.js';
import type { Backend, Rnn } from './api.js';

export type { GpuDiagnostics } from './gpu/context.js';
export type { BufferCounts } from './gpu/buffer-pool.js';

export interface ModelDiagnostics {
  backend: Backend;
  /** The WebGPU backend's state; absent on the CPU backend. */
  gpu?: {
    device: GPUDevice;
    /** How the kernels read the weights: f32, f16 (shader-f16) or f16 packed in u32 words. */
    weightFormat: WeightFormat;
    /** GPU bytes the model holds: weights plus its cached plans (pooled sizes). */
    heldBytes: number;
    /** Plans cached for call shapes (at most 4; least recently used are released). */
    plans: number;
    /** The strategy a forward of batch B runs with, and how many dispatches T steps record. */
    plan(T: number, B: number): { strategy: Strategy; dispatches: number };
    /** Everything the engine holds on this device, all models together (live buffers, pipelines). */
    context: GpuDiagnostics;
  };
}

export function diagnostics(model: Rnn): ModelDiagnostics {
  if (!(model instanceof WebGpuRnn)) return { backend: model.backend };
  const gpu = model.gpu;
  return {
    backend: 'webgpu',
    gpu: {
      device: gpu.ctx.device,
      weightFormat: gpu.weightFormat,
      heldBytes: gpu.heldBytes(),
      plans: gpu.planCount,
      plan: (T, B) => {
        const strategy = gpu.strategyFor(B, model.strategy);
        return { strategy, dispatches: gpu.dispatchCount(T, strategy) };
      },
      context: gpu.ctx.diagnostics(),
    },
  };
}

/** What the engine holds on a device (the engine's default device when none is given). */
export async function deviceDiagnostics(device?: GPUDevice): Promise<GpuDiagnostics> {
  return (await contextFor(device)).diagnostics();
}
