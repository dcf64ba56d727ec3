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

/** A method to wrap: `before` sees the receiver and the arguments of every call, then the original runs. */
type Hook = [proto: Proto | undefined, method: string, before: (self: object, args: unknown[]) => void];

/**
 * Runs `body` with each hooked method wrapped (where this host's prototype has it) and restores the
 * originals afterwards, also on error — the mechanism countGpuWork and captureDispatches share.
 */
async function withHooks<T>(hooks: readonly Hook[], body: () => Promise<T>): Promise<T> {
  const restore: Array<() => void> = [];
  for (const [proto, method, before] of hooks) {
    const original = proto?.[method] as ((...args: unknown[]) => unknown) | undefined;
    if (!proto || typeof original !== 'function') continue;
    proto[method] = function (this: object, ...args: unknown[]) {
      before(this, args);
      return original.apply(this, args);
    };
    restore.push(() => (proto[method] = original));
  }
  try {
    return await body();
  } finally {
    for (const undo of restore.reverse()) undo();
  }
}

/** Runs `body` while counting; restores the prototypes afterwards, also on error. */
export async function countGpuWork<T>(body: () => Promise<T>): Promise<{ result: T; counts: GpuCounts }> {
  const counts: GpuCounts = { dispatches: 0, bufferBytes: 0 };
  const pass = prototypeOf('GPUComputePassEncoder');
  const result = await withHooks(
    [
      [pass, 'dispatchWorkgroups', () => counts.dispatches++],
      [pass, 'dispatchWorkgroupsIndirect', () => counts.dispatches++],
      [prototypeOf('GPUDevice'), 'createBuffer', (_, args) => (counts.bufferBytes += Number((args[0] as GPUBufferDescriptor).size))],
    ],
    body,
  );
  return { result, counts };
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
  const result = await withHooks(
    [
      [pass, 'setPipeline', (self, [p]) => (of(self).pipeline = p as GPUComputePipeline)],
      // setBindGroup(index, group, offsets?) or (index, group, Uint32Array, start, length).
      [
        pass,
        'setBindGroup',
        (self, args) => {
          const [index, group, data, start, length] = args as [number, GPUBindGroup | null, Iterable<number> | Uint32Array | undefined, number?, number?];
          const offsets = data instanceof Uint32Array ? Array.from(data.subarray(start ?? 0, (start ?? 0) + (length ?? data.length))) : Array.from(data ?? []);
          of(self).groups[index] = group ? { group, offsets } : undefined;
        },
      ],
      [
        pass,
        'dispatchWorkgroups',
        (self, [x, y = 1, z = 1]) => {
          const s = of(self);
          if (s.pipeline) dispatches.push({ pipeline: s.pipeline, groups: [...s.groups], grid: [x as number, y as number, z as number] });
        },
      ],
      [pass, 'dispatchWorkgroupsIndirect', () => indirect++],
    ],
    body,
  );
  return { result, dispatches, indirect };
}
