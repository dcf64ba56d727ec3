/**
 * Counts what a system does on the GPU, whoever the system is: dispatches recorded and buffer bytes
 * created, by wrapping the WebGPU prototypes (GPUComputePassEncoder.dispatchWorkgroups,
 * GPUDevice.createBuffer) of this host for the duration of a measurement. Works the same for our
 * engine, TensorFlow.js and ONNX Runtime, on any device, in Node (Dawn's classes) and browsers.
 */
export interface GpuCounts {
  dispatches: number;
  bufferBytes: number;
}

type Proto = Record<string, unknown>;

function prototypeOf(name: string): Proto | undefined {
  const ctor = (globalThis as Record<string, unknown>)[name] as { prototype?: Proto } | undefined;
  return ctor?.prototype;
}

/** Runs `body` while counting; restores the prototypes afterwards, also on error. */
export async function countGpuWork<T>(body: () => Promise<T>): Promise<{ result: T; counts: GpuCounts }> {
  const counts: GpuCounts = { dispatches: 0, bufferBytes: 0 };
  const pass = prototypeOf('GPUComputePassEncoder');
  const device = prototypeOf('GPUDevice');
  const restore: Array<() => void> = [];
  const wrap = (proto: Proto | undefined, method: string, before: (args: unknown[]) => void) => {
    const original = proto?.[method] as ((...args: unknown[]) => unknown) | undefined;
    if (!proto || typeof original !== 'function') return;
    proto[method] = function (this: unknown, ...args: unknown[]) {
      before(args);
      return original.apply(this, args);
    };
    restore.push(() => (proto[method] = original));
  };
  wrap(pass, 'dispatchWorkgroups', () => counts.dispatches++);
  wrap(pass, 'dispatchWorkgroupsIndirect', () => counts.dispatches++);
  wrap(device, 'createBuffer', (args) => (counts.bufferBytes += Number((args[0] as GPUBufferDescriptor).size)));
  try {
    return { result: await body(), counts };
  } finally {
    for (const undo of restore.reverse()) undo();
  }
}

/** Whether this host's WebGPU classes can be wrapped (else counts read as unknown). */
export function canCountGpuWork(): boolean {
  return typeof prototypeOf('GPUComputePassEncoder')?.dispatchWorkgroups === 'function';
}
