/**
 * ONNX Runtime Web's WebGPU execution provider as a bench peer. The workload becomes an ONNX model
 * (src/onnx/write.ts's exportRnnOnnx: one LSTM / GRU node per layer, GRU with linear_before_reset = 1, which is
 * PyTorch's GRU) and runs on ORT's native WebGPU EP, the `onnxruntime-web/webgpu` build, whose
 * LSTM and GRU kernels run on the GPU (one or two dispatches per time step and direction).
 *
 * onnxruntime-web is a dev dependency of the bench only: it is imported inside `prepare`, so the
 * library never loads it.
 *
 * Device: ORT runs on the bench's device when that device allows the storage buffers ORT's RNN
 * kernels bind; otherwise (a device requested with default limits allows 8) on a device of its
 * own, requested from the same host GPU with the same adapter preference as the engine's
 * (`powerPreference: 'high-performance'`), so both run on the same physical adapter.
 *
 * Node (Dawn): ORT checks `navigator.gpu` when it first sets up its WebGPU EP, and Node has no
 * `navigator`, so Dawn's GPU is put there while the session is created, and taken away after. And
 * ORT's WebAssembly memory is a SharedArrayBuffer (threaded build), whose views Dawn's
 * `GPUQueue.writeBuffer` rejects ("Invalid argument"), so ORT's queue gets a wrapper that copies
 * such views first (see acceptSharedUploads). Browsers need neither.
 */
import { hostGpu } from '../../gpu/device.js';
import { isNode } from '../../gpu/node-gpu.js';
import type { BenchSystem, PreparedSystem, Workload } from '../system.js';
import { EXPORT_OPSET, exportRnnOnnx } from '../../onnx/write.js';
import { withNavigatorGpu } from './navigator-gpu.js';

type Ort = typeof import('onnxruntime-web/webgpu');

/**
 * Storage buffers ORT's RNN kernels bind in one shader stage: 9 (LSTM cell: X, W, R, h, c, B in;
 * h', c', Y out; GRU hidden pass: X, W, R, h, z, r, B in; h', Y out). The WebGPU default is 8.
 */
const ORT_STORAGE_BUFFERS = 9;

let ortModule: Promise<Ort> | undefined;
/** ORT's device when the bench's device allows too few storage buffers (one per host, kept). */
let ownDevice: Promise<GPUDevice> | undefined;

/** The ONNX Runtime Web WebGPU EP on the workload's device (or the same adapter). */
export const ortWebGpu: BenchSystem = {
  name: 'ort-webgpu',

  async prepare(workload: Workload, device: GPUDevice): Promise<PreparedSystem> {
    const gpu = await hostGpu();
    if (!gpu) throw new Error('ort-webgpu: this host has no WebGPU (no navigator.gpu, and no Dawn in Node)');
    const ort = await loadOrt();
    const { config, input, shape } = workload;
    const [T, B, I] = input.shape;
    const outFeatures = (config.bidirectional ? 2 : 1) * config.hidden_size;

    const shared = device.limits.maxStorageBuffersPerShaderStage >= ORT_STORAGE_BUFFERS;
    const ortDevice = shared ? device : await (ownDevice ??= requestOwnDevice(gpu));
    if (isNode()) acceptSharedUploads(ortDevice.queue);

    const model = await exportRnnOnnx(config, workload.weights, { initialStates: false });
    const session = await withNavigatorGpu(gpu, () => ort.InferenceSession.create(model, { executionProviders: [{ name: 'webgpu', device: ortDevice }] }));
    // (T, B, I), uploaded by ORT on every run, as every system uploads its input.
    const x = new ort.Tensor('float32', Float32Array.from(input.data), [T, B, I]);

    const deviceNote = shared
      ? 'on the bench device'
      : `on its own device (same adapter): the bench device allows ${device.limits.maxStorageBuffersPerShaderStage} storage buffers per stage, ORT's RNN kernels bind ${ORT_STORAGE_BUFFERS}`;
    return {
      note:
        `onnxruntime-web ${ort.env.versions.web ?? '?'} WebGPU EP, ONNX opset-${EXPORT_OPSET} ${config.mode}` +
        `${config.mode === 'GRU' ? ' (linear_before_reset=1)' : ''}, ${deviceNote}`,
      sameEquations: true,
      async run(): Promise<Float32Array> {
        const outputs = await session.run({ input: x });
        const y = outputs.output;
        const dims = y.dims.join(',');
        if (y.type !== 'float32' || dims !== [T, B, outFeatures].join(',')) {
          throw new Error(`ort-webgpu (${shape.name}): output is ${y.type} [${dims}], expected float32 [${T},${B},${outFeatures}]`);
        }
        return y.data as Float32Array; // (T, B, D·H), read back by ORT ('cpu' output location)
      },
      async dispose(): Promise<void> {
        await session.release();
      },
    };
  },
};

function loadOrt(): Promise<Ort> {
  ortModule ??= import('onnxruntime-web/webgpu').then((ort) => {
    // One WebAssembly thread: a page that is not cross-origin isolated gets one anyway, and Node then
    // matches the browser (the WebGPU EP's own work is on the GPU).
    ort.env.wasm.numThreads = 1;
    return ort;
  });
  ortModule.catch(() => (ortModule = undefined));
  return ortModule;
}

/** A device on the adapter the engine picks, with the adapter's limits (as ORT asks for its own). */
async function requestOwnDevice(gpu: GPU): Promise<GPUDevice> {
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('ort-webgpu: no WebGPU adapter');
  const l = adapter.limits;
  if (l.maxStorageBuffersPerShaderStage < ORT_STORAGE_BUFFERS) {
    throw new Error(
      `ort-webgpu: the adapter allows ${l.maxStorageBuffersPerShaderStage} storage buffers per shader stage; ORT's RNN kernels need ${ORT_STORAGE_BUFFERS}`,
    );
  }
  return adapter.requestDevice({
    label: 'ort-webgpu',
    requiredLimits: {
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
      maxComputeWorkgroupSizeZ: l.maxComputeWorkgroupSizeZ,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    },
  });
}

const patchedQueues = new WeakSet<GPUQueue>();

/**
 * Node only: lets `queue.writeBuffer` take views of a SharedArrayBuffer by copying them into an
 * ordinary buffer first (Dawn's Node bindings reject shared memory). Only this queue object gets the
 * wrapper, and it calls whatever GPUQueue.prototype.writeBuffer is at the time of the call, so a
 * later patch of the prototype (counting uploads, say) still sees ORT's writes.
 */
function acceptSharedUploads(queue: GPUQueue): void {
  if (patchedQueues.has(queue)) return;
  patchedQueues.add(queue);
  const proto = Object.getPrototypeOf(queue) as GPUQueue;
  const wrapped = function (this: GPUQueue, buffer: GPUBuffer, offset: number, data: AllowSharedBufferSource, dataOffset?: number, size?: number) {
    return proto.writeBuffer.call(this, buffer, offset, unshared(data), dataOffset, size);
  };
  Object.defineProperty(queue, 'writeBuffer', { value: wrapped, configurable: true, writable: true });
}

/** `data` itself, or a copy in ordinary memory when it lives in a SharedArrayBuffer. */
function unshared(data: AllowSharedBufferSource): BufferSource {
  if (data instanceof SharedArrayBuffer) return new Uint8Array(data).slice().buffer;
  if (!ArrayBuffer.isView(data) || !(data.buffer instanceof SharedArrayBuffer)) return data as BufferSource;
  if (data instanceof DataView) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  // A typed array's slice keeps its element type, so writeBuffer's dataOffset and size (in elements) keep their meaning.
  return (data as Uint8Array).slice();
}
