/**
 * One way to a GPUDevice for every host: a device the caller passes in (embedding in an existing
 * WebGPU app), else `navigator.gpu` (browsers, Deno), else Dawn in Node. One GpuContext per device,
 * shared by every model on it, so pipelines and pooled buffers are shared too.
 */
import { RnnError } from '../errors.js';

import { GpuContext } from './context.js';
import { isNode, nodeGpu } from './node-gpu.js';

const contexts = new WeakMap<GPUDevice, GpuContext>();
let defaultDevice: Promise<GPUDevice> | undefined;

/** The GPU object of this host, or undefined when it has no WebGPU. */
export async function hostGpu(): Promise<GPU | undefined> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (isNode()) return nodeGpu();
  return undefined;
}

/**
 * Requests an adapter and a device with the adapter's buffer-size and storage-buffer-count limits, so
 * larger models fit and code sharing the device (e.g. another engine) is not held to the defaults.
 */
export async function requestDevice(gpu?: GPU): Promise<GPUDevice> {
  const host = gpu ?? (await hostGpu());
  if (!host) throw new RnnError('WEBGPU_UNAVAILABLE', 'WebGPU is not available here (no navigator.gpu); use backend: "cpu" or pass a GPUDevice');
  const adapter = await host.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new RnnError('WEBGPU_UNAVAILABLE', 'WebGPU: no adapter found (no GPU driver, and no software adapter such as SwiftShader)');
  // Optional features the kernels use where the adapter has them: shader-f16 (f16 weights read
  // natively) and subgroups (loads shared across a subgroup).
  const requiredFeatures = (['shader-f16', 'subgroups'] as GPUFeatureName[]).filter((f) => adapter.features.has(f));
  return adapter.requestDevice({
    label: 'webgpu-rnn',
    requiredFeatures,
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
      maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
    },
  });
}

/** The engine's device when the caller brings none: requested once, shared by all models. */
export function getDefaultDevice(): Promise<GPUDevice> {
  if (!defaultDevice) {
    const request = (defaultDevice = requestDevice());
    const forget = () => {
      if (defaultDevice === request) defaultDevice = undefined;
    };
    // A failed request may be retried; a lost device is replaced by a new one on the next call.
    request.then((device) => device.lost.then(forget), forget);
  }
  return defaultDevice;
}

/** The context that owns `device` (created on first use). */
export async function contextFor(device?: GPUDevice): Promise<GpuContext> {
  const dev = device ?? (await getDefaultDevice());
  let ctx = contexts.get(dev);
  if (!ctx) contexts.set(dev, (ctx = new GpuContext(dev)));
  return ctx;
}
