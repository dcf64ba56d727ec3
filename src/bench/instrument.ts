/**
 * Counts what a system does on the GPU, whoever the system is: dispatches recorded and buffer bytes
 * created, by wrapping the WebGPU prototypes (GPUComputePassEncoder.dispatchWorkgroups,
 * GPUDevice.createBuffer) of this host for the duration of a measurement. Works the same for our
 * engine, TensorFlow.js and ONNX Runtime, on any device, in Node (Dawn's classes) and browsers. The
 * same wrapping also records each dispatch whole, for the per-dispatch profile (captureDispatches).
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

/** One dispatch as it was recorded: enough to record it again, alone (dispatch-profile.ts). */
export interface CapturedDispatch {
  pipeline: GPUComputePipeline;
  /** The bind groups set at the dispatch, by index, with their dynamic offsets. */
  groups: Array<{ group: GPUBindGroup; offsets: number[] } | undefined>;
  grid: [number, number, number];
}

/**
 * Runs `body` while recording every compute dispatch it encodes (pipeline, bind groups with their
 * dynamic offsets, grid), by wrapping the pass encoder's prototype as countGpuWork does; each pass's
 * state is tracked on its own. Indirect dispatches cannot be recorded again and are counted apart.
 * Restores the prototype afterwards, also on error.
 */
export async function captureDispatches<T>(body: () => Promise<T>): Promise<{ result: T; dispatches: CapturedDispatch[]; indirect: number }> {
  const pass = prototypeOf('GPUComputePassEncoder');
  if (!pass || typeof pass.dispatchWorkgroups !== 'function') throw new Error('captureDispatches: this host has no GPUComputePassEncoder to wrap');
  const dispatches: CapturedDispatch[] = [];
  let indirect = 0;
  const state = new WeakMap<object, { pipeline?: GPUComputePipeline; groups: CapturedDispatch['groups'] }>();
  const of = (encoder: object) => {
    let s = state.get(encoder);
    if (!s) state.set(encoder, (s = { groups: [] }));
    return s;
  };
  const originals = {
    setPipeline: pass.setPipeline as (this: object, p: GPUComputePipeline) => void,
    setBindGroup: pass.setBindGroup as (this: object, ...args: unknown[]) => void,
    dispatchWorkgroups: pass.dispatchWorkgroups as (this: object, ...args: number[]) => void,
  };
  const indirectOriginal = pass.dispatchWorkgroupsIndirect as ((this: object, ...args: unknown[]) => void) | undefined;
  pass.setPipeline = function (this: object, p: GPUComputePipeline) {
    of(this).pipeline = p;
    return originals.setPipeline.call(this, p);
  };
  // setBindGroup(index, group, offsets?) or (index, group, Uint32Array, start, length).
  pass.setBindGroup = function (this: object, ...args: unknown[]) {
    const [index, group, data, start, length] = args as [number, GPUBindGroup | null, Iterable<number> | Uint32Array | undefined, number?, number?];
    const offsets = data instanceof Uint32Array ? Array.from(data.subarray(start ?? 0, (start ?? 0) + (length ?? data.length))) : Array.from(data ?? []);
    of(this).groups[index] = group ? { group, offsets } : undefined;
    return originals.setBindGroup.apply(this, args);
  };
  pass.dispatchWorkgroups = function (this: object, x: number, y = 1, z = 1) {
    const s = of(this);
    if (s.pipeline) dispatches.push({ pipeline: s.pipeline, groups: [...s.groups], grid: [x, y, z] });
    return originals.dispatchWorkgroups.call(this, x, y, z);
  };
  if (indirectOriginal)
    pass.dispatchWorkgroupsIndirect = function (this: object, ...args: unknown[]) {
      indirect++;
      return indirectOriginal.apply(this, args);
    };
  try {
    return { result: await body(), dispatches, indirect };
  } finally {
    Object.assign(pass, originals);
    if (indirectOriginal) pass.dispatchWorkgroupsIndirect = indirectOriginal;
  }
}
