/**
 * The one owner of a GPUDevice: every pipeline, bind group layout, bind group and buffer the engine
 * uses is made here, so caching and counting live in one place. Nothing else calls device.create*.
 *
 * Cache keys: bind group layouts by `family/name`; pipelines by
 * `family/entryPoint/<constants as sorted JSON>` (the shader text is fixed per family).
 */
import { RnnError } from '../errors.js';

import { type BufferCounts, BufferPool } from './buffer-pool.js';
import { BufferUsage, TextureUsage } from './constants.js';

export interface GpuStats {
  buffersCreated: number;
  pipelinesCreated: number;
  bindGroupLayoutsCreated: number;
  bindGroupsCreated: number;
}

/** What the engine holds on one device (see `diagnostics` in the public API). */
export interface GpuDiagnostics {
  /** Models (WebGPU backend) alive on this device: created and not destroyed. */
  models: number;
  buffers: BufferCounts;
  pipelines: number;
  bindGroupLayouts: number;
  bindGroupsCreated: number;
  /** Why the device was lost, if it was. */
  lost?: string;
}

export interface PipelineSpec {
  family: string;
  code: string;
  entryPoint: string;
  constants: Record<string, number | boolean>;
  layouts: GPUBindGroupLayout[];
}

/** A texture view among a bind group's resources (GpuContext.bindGroup), told apart from the buffers. */
export interface TextureBinding {
  readonly textureView: GPUTextureView;
}

/** What a bind group entry holds: a whole buffer, a buffer range, or a texture view. */
export type BindingInput = GPUBuffer | GPUBufferBinding | TextureBinding;

function bindingResource(r: BindingInput): GPUBindingResource {
  if ('textureView' in r) return r.textureView;
  return 'buffer' in r ? r : { buffer: r };
}

export class GpuContext {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly layouts = new Map<string, GPUBindGroupLayout>();
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pool: BufferPool;
  private counts = { pipelines: 0, layouts: 0, bindGroups: 0 };
  private models = 0;
  private placeholder?: TextureBinding;
  /** Resolves when the device is lost. */
  private readonly lostPromise: Promise<unknown>;
  /**
   * Test-only: limits to use instead of some of the device's (e.g. a small maxStorageBufferBindingSize,
   * so tests exercise the work splitting without allocating gigabytes).
   */
  limitOverrides: Partial<Record<keyof GPUSupportedLimits, number>> = {};

  /**
   * True on a software (fallback) adapter such as SwiftShader, where a workgroup runs on a CPU core
   * and kernel layouts favour fewer, fatter invocations. Read from the device's adapter info; tests
   * flip it on a context of their own to run the other family of layouts on the same adapter.
   */
  isSoftwareAdapter: boolean;

  /**
   * Kernels share loads across a subgroup (shaders/lanes-subgroups.wgsl) when the device has the
   * `subgroups` feature. Tests clear it on a context of their own to run the plain kernels.
   */
  subgroups: boolean;

  /** Why the device was lost, once it is (destroyed, driver reset, …); work then fails fast. */
  lost?: string;

  constructor(readonly device: GPUDevice) {
    this.pool = new BufferPool(device);
    this.lostPromise = device.lost.then((info) => (this.lost = info.message || info.reason || 'unknown reason'));
    const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo & { isFallbackAdapter?: boolean } }).adapterInfo;
    this.subgroups = device.features.has('subgroups');
    this.isSoftwareAdapter = info?.isFallbackAdapter === true || /swiftshader|llvmpipe|lavapipe/i.test(`${info?.architecture} ${info?.description}`);
  }

  /** Throws a clear error once the device is lost, rather than leaving work to hang or fail vaguely. */
  checkAlive(): void {
    if (this.lost !== undefined) throw new RnnError('DEVICE_LOST', `WebGPU device lost (${this.lost}): create the model again`);
  }

  /**
   * After a failed GPU operation: whether the failure is the device being lost. The loss is reported
   * asynchronously (a map can fail before device.lost resolves), so this waits briefly for it.
   */
  async lostWithin(ms = 200): Promise<boolean> {
    if (this.lost === undefined) await Promise.race([this.lostPromise, new Promise((resolve) => setTimeout(resolve, ms))]);
    return this.lost !== undefined;
  }

  get limits(): GPUSupportedLimits {
    const overrides = this.limitOverrides;
    if (Object.keys(overrides).length === 0) return this.device.limits;
    return new Proxy(this.device.limits, {
      get: (target, key) => (overrides as Record<string | symbol, number>)[key] ?? (target as unknown as Record<string | symbol, number>)[key],
    });
  }

  /** A model starts using this context. */
  attach(): void {
    this.models++;
  }

  /** A model is done with this context; with the last one gone, pooled buffers are freed too. */
  detach(): void {
    this.models--;
    if (this.models === 0) this.pool.trim();
  }

  diagnostics(): GpuDiagnostics {
    return {
      models: this.models,
      buffers: this.pool.counts(),
      pipelines: this.counts.pipelines,
      bindGroupLayouts: this.counts.layouts,
      bindGroupsCreated: this.counts.bindGroups,
      ...(this.lost === undefined ? {} : { lost: this.lost }),
    };
  }

  stats(): GpuStats {
    return {
      buffersCreated: this.pool.created,
      pipelinesCreated: this.counts.pipelines,
      bindGroupLayoutsCreated: this.counts.layouts,
      bindGroupsCreated: this.counts.bindGroups,
    };
  }

  bindGroupLayout(key: string, entries: GPUBindGroupLayoutEntry[]): GPUBindGroupLayout {
    let layout = this.layouts.get(key);
    if (!layout) {
      layout = this.device.createBindGroupLayout({ label: key, entries });
      this.layouts.set(key, layout);
      this.counts.layouts++;
    }
    return layout;
  }

  computePipeline(spec: PipelineSpec): GPUComputePipeline {
    const constants = Object.keys(spec.constants)
      .sort()
      .map((k) => [k, spec.constants[k]]);
    const key = `${spec.family}/${spec.entryPoint}/${JSON.stringify(constants)}`;
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      let module = this.modules.get(spec.family);
      if (!module) {
        module = this.device.createShaderModule({ label: spec.family, code: spec.code });
        this.modules.set(spec.family, module);
      }
      pipeline = this.device.createComputePipeline({
        label: key,
        layout: this.device.createPipelineLayout({ label: key, bindGroupLayouts: spec.layouts }),
        compute: {
          module,
          entryPoint: spec.entryPoint,
          // Booleans go through as 0/1: GPUPipelineConstantValue is a double.
          constants: Object.fromEntries(constants.map(([k, v]) => [k, Number(v)])),
        },
      });
      this.pipelines.set(key, pipeline);
      this.counts.pipelines++;
    }
    return pipeline;
  }

  bindGroup(label: string, layout: GPUBindGroupLayout, resources: BindingInput[]): GPUBindGroup {
    this.counts.bindGroups++;
    return this.device.createBindGroup({ label, layout, entries: resources.map((r, binding) => ({ binding, resource: bindingResource(r) })) });
  }

  /** A bind group whose entries use explicit binding numbers (for layouts with gaps). */
  bindGroupAt(label: string, layout: GPUBindGroupLayout, entries: Array<[number, BindingInput]>): GPUBindGroup {
    this.counts.bindGroups++;
    return this.device.createBindGroup({ label, layout, entries: entries.map(([binding, r]) => ({ binding, resource: bindingResource(r) })) });
  }

  /**
   * A texture binding: a view of `texture`, or, where the kernel reads none (the layout still asks for
   * one), a 1 × 1 rgba32float placeholder made once per context.
   */
  textureBinding(texture: GPUTexture | undefined): TextureBinding {
    if (texture) return { textureView: texture.createView() };
    this.placeholder ??= {
      textureView: this.device
        .createTexture({ label: 'placeholderTexture', size: [1, 1], format: 'rgba32float', usage: TextureUsage.TEXTURE_BINDING })
        .createView(),
    };
    return this.placeholder;
  }

  /** A pooled buffer of at least `bytes` (bind it with an exact size). */
  buffer(label: string, bytes: number, usage: GPUBufferUsageFlags): GPUBuffer {
    return this.pool.acquire(label, Math.max(4, bytes), usage);
  }

  /** A storage buffer of the data's exact size (not pooled: weights live as long as their model). Free it with discard(). */
  storageFrom(label: string, data: Float32Array | Uint32Array | Uint16Array): GPUBuffer {
    const buffer = this.pool.exact(label, data.byteLength, BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC);
    if (data.byteLength > 0) this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    this.pool.release(buffer);
  }

  /** Destroys a buffer rather than pooling it (after a failed submission it may be invalid). */
  discard(buffer: GPUBuffer): void {
    this.pool.discard(buffer);
  }
}
