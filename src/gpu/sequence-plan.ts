/**
 * Everything one call shape (T, B, strategy) needs on the GPU, made once and reused by every later
 * call of that shape: buffers from the pool, uniforms written, bind groups prebuilt (ping-pong state
 * pairs and a dynamic-offset step index). `encode` only records dispatches — all layers in one compute
 * pass, no read-back in between:
 *   per-step:   per layer one matmul (input projection of all T steps), then T step dispatches
 *               (2·T with LSTM projection);
 *   persistent: per layer one matmul, then one dispatch running the whole time loop;
 *   fused:      per layer one dispatch running the whole time loop, input projection included.
 */
import { type RnnConfig, numDirections, outputSize } from '../config.js';
import type { TensorData } from '../tensor.js';
import { RnnError } from '../errors.js';
import { BufferUsage } from './constants.js';
import type { GpuContext } from './context.js';
import { dispatchSize, tileCount } from './dispatch.js';
import {
  MATMUL_ROWS, MATMUL_WORKGROUP_SIZE, type MatmulKernel, PROJECT_WORKGROUP_SIZE, type PersistentKernel, type StepKernels,
  type WeightFormat, chooseStepLayout, persistentKernel, stepKernels,
} from './kernels.js';
import { GATE_LANES, type LayerWeights } from './layer-weights.js';
import { type PersistentLayout, type Strategy, persistentLayout } from './strategy.js';
import { MATMUL_DIMS_FIELDS, PERSISTENT_DIMS_FIELDS, STEP_DIMS_FIELDS, packU32Struct } from './uniforms.js';

const F32 = 4;
const STORAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;
const UNIFORM = BufferUsage.UNIFORM | BufferUsage.COPY_DST;
const STAGING = BufferUsage.MAP_READ | BufferUsage.COPY_DST;

/** What a model hands a plan: its configuration, uploaded weights and each layer's matmul kernel. */
export interface ModelParts {
  readonly config: RnnConfig;
  /** How the kernels read the layers' weights. */
  readonly weightFormat: WeightFormat;
  readonly layers: readonly LayerWeights[];
  readonly matmul: readonly MatmulKernel[];
}

/** Sizes derived from the configuration and the call shape, in f32 elements unless named bytes. */
export class PlanSizes {
  readonly D: number;
  readonly H: number;
  readonly Hout: number;
  /** Cell-state width per row: H for LSTM, 0 otherwise. */
  readonly Hc: number;
  /** h (D, B, H_out) then c (D, B, H_c): one layer's state. */
  readonly layerState: number;
  /** (T, B, D·H_out) */
  readonly sequence: number;

  constructor(readonly config: RnnConfig, readonly T: number, readonly B: number) {
    this.D = numDirections(config);
    this.H = config.hidden_size;
    this.Hout = outputSize(config);
    this.Hc = config.mode === 'LSTM' ? this.H : 0;
    this.layerState = this.D * B * (this.Hout + this.Hc);
    this.sequence = T * B * this.D * this.Hout;
  }

  get hBytes(): number {
    return this.D * this.B * this.Hout * F32;
  }

  get cBytes(): number {
    return this.D * this.B * this.Hc * F32;
  }

  /** Bytes of the whole state of all layers (a stream keeps one buffer of this size). */
  get stateBytes(): number {
    return this.config.num_layers * this.layerState * F32;
  }
}

/**
 * Why a plan of this shape cannot run on the device, or undefined when it can: every buffer within
 * maxBufferSize, every storage binding within maxStorageBufferBindingSize, every dispatch within
 * maxComputeWorkgroupsPerDimension. Checked before a plan allocates anything; GpuRnn uses it to split
 * work that does not fit into pieces that do.
 */
export function planUnfit(ctx: GpuContext, config: RnnConfig, T: number, B: number, strategy: Strategy): string | undefined {
  const s = new PlanSizes(config, T, B);
  const limits = ctx.limits;
  const gx = strategy === 'fused' ? 0 : s.D * T * B * s.H * GATE_LANES * F32;
  const storage: Array<[string, number]> = [
    ['input', T * B * config.input_size * F32], ['layer output', s.sequence * F32], ['input projection (gx)', gx], ['layer state', s.layerState * F32],
  ];
  for (const [what, bytes] of storage) {
    if (bytes > limits.maxStorageBufferBindingSize) return `its ${what} needs ${bytes} bytes, above maxStorageBufferBindingSize ${limits.maxStorageBufferBindingSize}`;
  }
  const buffers: Array<[string, number]> = [['output staging', s.sequence * F32], ['state staging', config.num_layers * s.layerState * F32]];
  if (strategy === 'per-step') buffers.push(['step index', T * limits.minUniformBufferOffsetAlignment]);
  for (const [what, bytes] of [...storage, ...buffers]) {
    if (bytes > limits.maxBufferSize) return `its ${what} needs ${bytes} bytes, above maxBufferSize ${limits.maxBufferSize}`;
  }
  const maxGroups = limits.maxComputeWorkgroupsPerDimension;
  const fits = (extent: number, tile: number, max = maxGroups) => Math.ceil(extent / tile) <= max;
  if (!fits(s.H, MATMUL_WORKGROUP_SIZE)) return `hidden_size ${s.H} needs more than ${maxGroups} workgroups of ${MATMUL_WORKGROUP_SIZE}`;
  if (strategy !== 'fused' && !fits(T * B, MATMUL_ROWS)) return `T·B = ${T * B} rows need more than ${maxGroups} workgroups of ${MATMUL_ROWS} rows`;
  if (strategy === 'per-step') {
    const layout = chooseStepLayout(s.H, s.Hout, s.D, B, ctx.isSoftwareAdapter);
    if (!fits(B, layout.blockB, Math.floor(maxGroups / s.D))) return `${s.D}·${B} batch rows need more than ${maxGroups} workgroups`;
    if (!fits(Math.ceil((s.D * B * s.Hout) / PROJECT_WORKGROUP_SIZE), maxGroups)) return `the projection of ${s.D}·${B} rows needs more than ${maxGroups}² workgroups`;
  }
  return undefined;
}

/** Workgroup counts of one dispatch. */
type Grid = readonly [number, number, number];

/** Prebuilt bind groups of one layer on the per-step path. */
interface PerStepLayer {
  matmul: GPUBindGroup;
  step: GPUBindGroup;
  project?: GPUBindGroup;
  /** [read slot 0 → write slot 1, read slot 1 → write slot 0] */
  state: [GPUBindGroup, GPUBindGroup];
}

export class SequencePlan {
  readonly sizes: PlanSizes;
  private readonly owned: GPUBuffer[] = [];
  private readonly input: GPUBuffer;
  private readonly lengths: GPUBuffer;
  private readonly sequences: [GPUBuffer, GPUBuffer];
  /** Per layer; a call starts and ends with the state in slot 0 (slot 1 only on the per-step path). */
  private readonly states: GPUBuffer[][] = [];
  private readonly scratch: GPUBuffer[] = [];
  private readonly outputStaging: GPUBuffer;
  private readonly stateStaging: GPUBuffer;
  readonly tag: string;
  // per-step path
  private perStep?: {
    kernels: StepKernels; layers: PerStepLayer[]; indexGroup: GPUBindGroup; indexStride: number;
    matmulGrid: Grid; stepGrid: Grid; projectGrid: Grid;
  };
  // persistent path
  private persistent?: { kernel: PersistentKernel; layout: PersistentLayout; groups: GPUBindGroup[]; matmulGroups?: GPUBindGroup[]; matmulGrid: Grid };

  constructor(private readonly ctx: GpuContext, private readonly model: ModelParts, T: number, B: number, readonly strategy: Strategy) {
    const unfit = planUnfit(ctx, model.config, T, B, strategy);
    if (unfit) throw new RnnError('LIMIT_EXCEEDED', `a ${strategy} run of T=${T}, B=${B} does not fit this device: ${unfit}`);
    const s = (this.sizes = new PlanSizes(model.config, T, B));
    const { config } = model;
    this.tag = `SequencePlan(T=${T},B=${B},${strategy})`;
    this.input = this.storage('input', T * B * config.input_size);
    this.lengths = this.storage('lengths', B);
    this.sequences = [this.storage('sequence0', s.sequence), this.storage('sequence1', s.sequence)];
    const slots = strategy === 'per-step' ? 2 : 1;
    for (let l = 0; l < config.num_layers; l++) {
      this.states.push(Array.from({ length: slots }, (_, k) => this.storage(`layer${l}.state${k}`, s.layerState)));
    }
    this.outputStaging = this.storage('outputStaging', s.sequence, STAGING);
    this.stateStaging = this.storage('stateStaging', config.num_layers * s.layerState, STAGING);
    try {
      if (strategy === 'per-step') this.buildPerStep();
      else this.buildPersistent();
    } catch (e) {
      this.release(); // a shape past the device's limits: give the buffers already taken back
      throw e;
    }
  }

  private storage(name: string, elements: number, usage: GPUBufferUsageFlags = STORAGE): GPUBuffer {
    const b = this.ctx.buffer(`${this.tag}.${name}`, elements * F32, usage);
    this.owned.push(b);
    return b;
  }

  private uniform(name: string, data: Uint32Array): GPUBufferBinding {
    const buffer = this.storage(name, data.length, UNIFORM);
    this.ctx.device.queue.writeBuffer(buffer, 0, data);
    return { buffer, offset: 0, size: data.byteLength };
  }

  /** A binding of the first `elements` f32 of a (pooled, possibly larger) buffer. */
  private static whole(buffer: GPUBuffer, elements: number): GPUBufferBinding {
    return { buffer, offset: 0, size: elements * F32 };
  }

  /**
   * The same range viewed as array<vec4<f32>> (the matmul's `a4`): sizes round up to whole vec4s,
   * which pooled buffers (power-of-two sizes ≥ 256 bytes) always hold; the slack is never read.
   */
  private static asVec4(b: GPUBufferBinding): GPUBufferBinding {
    return { ...b, size: Math.ceil((b.size ?? 0) / 16) * 16 };
  }

  /**
   * Workgroups of the input-projection matmul. Computed when the plan is built, so a shape past the
   * device's limits fails there with a clear error, before anything is recorded.
   */
  private matmulGrid(): Grid {
    const { T, B, D, H } = this.sizes;
    const maxGroups = this.ctx.limits.maxComputeWorkgroupsPerDimension;
    return [
      tileCount(H, MATMUL_WORKGROUP_SIZE, maxGroups, 'input projection units (hidden_size)'),
      tileCount(T * B, MATMUL_ROWS, maxGroups, 'input projection rows (T × B)'),
      D,
    ];
  }

  private layerIO(l: number): { input: GPUBufferBinding; output: GPUBufferBinding } {
    const s = this.sizes;
    const I = this.model.layers[l].inputSize;
    const whole = SequencePlan.whole;
    return {
      input: l === 0 ? whole(this.input, s.T * s.B * I) : whole(this.sequences[(l - 1) % 2], s.sequence),
      output: whole(this.sequences[l % 2], s.sequence),
    };
  }

  private buildPerStep(): void {
    const { ctx, model, sizes: s } = this;
    const { T, B, D, H, Hout } = s;
    const whole = SequencePlan.whole;
    const layout = chooseStepLayout(H, Hout, D, B, ctx.isSoftwareAdapter);
    const kernels = stepKernels(ctx, model.config.mode, model.config.proj_size > 0, layout, model.weightFormat);
    const gxElements = D * T * B * H * GATE_LANES; // (D, T·B, H, 4)
    const gx = this.storage('gx', gxElements);
    const hRaw = model.config.proj_size > 0 ? this.storage('hRaw', D * B * H) : undefined;
    if (hRaw) this.scratch.push(hRaw);
    this.scratch.push(gx);

    // Step index: entry s at byte offset s·stride, bound 16 bytes at a time with a dynamic offset.
    const indexStride = ctx.limits.minUniformBufferOffsetAlignment;
    const indices = new Uint32Array((T * indexStride) / F32);
    for (let t = 0; t < T; t++) indices[(t * indexStride) / F32] = t;
    const index = this.uniform('stepIndex', indices);
    const indexGroup = ctx.bindGroup(`${this.tag}.stepIndex`, kernels.indexLayout, [{ ...index, size: 16 }]);

    const layers = model.layers.map((w, l): PerStepLayer => {
      const I = w.inputSize;
      const { input, output } = this.layerIO(l);
      const params = w.params;
      const matmulDims = this.uniform(`layer${l}.matmulDims`, packU32Struct(MATMUL_DIMS_FIELDS, {
        M: T * B, N: H, K: I, a_batch_stride: 0, w_offset: w.offsets.wIh, w_batch_stride: I * H,
        bias_offset: w.offsets.bIh, bias_batch_stride: H, c_batch_stride: T * B * H,
      }));
      const stepDims = this.uniform(`layer${l}.stepDims`, packU32Struct(STEP_DIMS_FIELDS, {
        T, B, H, H_out: Hout, D, w_hh_offset: w.offsets.wHh, b_hh_offset: w.offsets.bHh,
      }));
      const tag = `${this.tag}.layer${l}`;
      const [a, b] = this.states[l].map((buffer) => whole(buffer, s.layerState));
      return {
        matmul: ctx.bindGroup(`${tag}.matmul`, model.matmul[l].layout, [matmulDims, input, params, whole(gx, gxElements), SequencePlan.asVec4(input)]),
        step: ctx.bindGroup(`${tag}.step`, kernels.stepLayout, [
          stepDims, whole(this.lengths, B), whole(gx, gxElements), params, hRaw ? whole(hRaw, D * B * H) : output,
        ]),
        project: hRaw && kernels.projectLayout && w.wHr
          ? ctx.bindGroupAt(`${tag}.project`, kernels.projectLayout, [
            [0, stepDims], [1, whole(this.lengths, B)], [4, output], [5, w.wHr], [6, whole(hRaw, D * B * H)],
          ])
          : undefined,
        state: [
          ctx.bindGroup(`${tag}.state0to1`, kernels.stateLayout, [a, b, SequencePlan.asVec4(a)]),
          ctx.bindGroup(`${tag}.state1to0`, kernels.stateLayout, [b, a, SequencePlan.asVec4(b)]),
        ],
      };
    });
    const maxGroups = ctx.limits.maxComputeWorkgroupsPerDimension;
    const stepGrid: Grid = [
      tileCount(H, layout.workgroupSize, maxGroups, 'recurrent step units (hidden_size)'),
      D * tileCount(B, layout.blockB, maxGroups / D, 'recurrent step rows (directions × batch blocks)'),
      1,
    ];
    const projectGrid: Grid = [...dispatchSize(D * B * Hout, PROJECT_WORKGROUP_SIZE, maxGroups), 1];
    this.perStep = { kernels, layers, indexGroup, indexStride, matmulGrid: this.matmulGrid(), stepGrid, projectGrid };
  }

  private buildPersistent(): void {
    const { ctx, model, sizes: s } = this;
    const { T, B, D, H, Hout } = s;
    const whole = SequencePlan.whole;
    const inlineInput = this.strategy === 'fused';
    const layout = persistentLayout(model.config, B, ctx.limits, ctx.isSoftwareAdapter);
    const kernel = persistentKernel(ctx, model.config.mode, model.config.proj_size > 0, layout, inlineInput, model.weightFormat);
    const gxElements = D * T * B * H * GATE_LANES;
    const gx = inlineInput ? undefined : this.storage('gx', gxElements);
    if (gx) this.scratch.push(gx);
    const matmulGroups: GPUBindGroup[] = [];
    const groups = model.layers.map((w, l) => {
      const { input, output } = this.layerIO(l);
      const params = w.params;
      if (gx) {
        const matmulDims = this.uniform(`layer${l}.matmulDims`, packU32Struct(MATMUL_DIMS_FIELDS, {
          M: T * B, N: H, K: w.inputSize, a_batch_stride: 0, w_offset: w.offsets.wIh, w_batch_stride: w.inputSize * H,
          bias_offset: w.offsets.bIh, bias_batch_stride: H, c_batch_stride: T * B * H,
        }));
        matmulGroups.push(ctx.bindGroup(`${this.tag}.layer${l}.matmul`, model.matmul[l].layout, [matmulDims, input, params, whole(gx, gxElements), SequencePlan.asVec4(input)]));
      }
      const dims = this.uniform(`layer${l}.persistentDims`, packU32Struct(PERSISTENT_DIMS_FIELDS, {
        T, B, H, H_out: Hout, D, I: w.inputSize,
        w_ih_offset: w.offsets.wIh, b_ih_offset: w.offsets.bIh, w_hh_offset: w.offsets.wHh, b_hh_offset: w.offsets.bHh,
      }));
      return ctx.bindGroup(`${this.tag}.layer${l}.persistent`, kernel.layout, [
        dims, whole(this.lengths, B), input, params, output,
        w.wHr ?? params, // no projection: any read-only buffer fills the slot
        whole(this.states[l][0], s.layerState),
        gx ? whole(gx, gxElements) : params, // inline input projection: gx unused
      ]);
    });
    this.persistent = { kernel, layout, groups, matmulGroups: gx ? matmulGroups : undefined, matmulGrid: this.matmulGrid() };
  }

  /** Queues the call's input (T, B, I) and lengths (B); all lengths T when absent. */
  writeInputs(x: TensorData, lengths: Int32Array | undefined): void {
    const { T, B } = this.sizes;
    const queue = this.ctx.device.queue;
    queue.writeBuffer(this.input, 0, x instanceof Float32Array ? x : Float32Array.from(x));
    queue.writeBuffer(this.lengths, 0, lengths ? Uint32Array.from(lengths) : new Uint32Array(B).fill(T));
  }

  /**
   * Sets every layer's starting state: h0 (L·D, B, H_out) and c0 (L·D, B, H) from the host, zeros
   * where absent.
   */
  writeInitialState(encoder: GPUCommandEncoder, h0: TensorData | undefined, c0: TensorData | undefined): void {
    const s = this.sizes;
    const queue = this.ctx.device.queue;
    const hPerLayer = s.hBytes / F32;
    const cPerLayer = s.cBytes / F32;
    this.states.forEach(([slot0], l) => {
      if (h0) queue.writeBuffer(slot0, 0, Float32Array.from(h0.subarray(l * hPerLayer, (l + 1) * hPerLayer)));
      else encoder.clearBuffer(slot0, 0, s.hBytes);
      if (cPerLayer === 0) return;
      if (c0) queue.writeBuffer(slot0, s.hBytes, Float32Array.from(c0.subarray(l * cPerLayer, (l + 1) * cPerLayer)));
      else encoder.clearBuffer(slot0, s.hBytes, s.cBytes);
    });
  }

  /** Copies a stream's state buffer (all layers, `sizes.stateBytes`) into slot 0 of every layer. */
  copyStateIn(encoder: GPUCommandEncoder, source: GPUBuffer): void {
    const bytes = this.sizes.layerState * F32;
    this.states.forEach(([slot0], l) => encoder.copyBufferToBuffer(source, l * bytes, slot0, 0, bytes));
  }

  copyStateOut(encoder: GPUCommandEncoder, target: GPUBuffer): void {
    const bytes = this.sizes.layerState * F32;
    this.states.forEach(([slot0], l) => encoder.copyBufferToBuffer(slot0, 0, target, l * bytes, bytes));
  }

  /** Fills every buffer a run writes with NaN, so an element the kernels fail to write shows up. */
  poison(): void {
    const nan = (b: GPUBuffer) => this.ctx.device.queue.writeBuffer(b, 0, new Float32Array(b.size / F32).fill(Number.NaN));
    [...this.sequences, ...this.scratch, ...this.states.flatMap((slots) => slots.slice(1))].forEach(nan);
  }

  /** Records the whole network over all T steps; leaves every layer's final state in slot 0. */
  encode(encoder: GPUCommandEncoder): void {
    const pass = encoder.beginComputePass({ label: this.tag });
    if (this.persistent) {
      const { kernel, layout, groups, matmulGroups, matmulGrid } = this.persistent;
      groups.forEach((group, l) => {
        if (matmulGroups) {
          pass.setPipeline(this.model.matmul[l].pipeline);
          pass.setBindGroup(0, matmulGroups[l]);
          pass.dispatchWorkgroups(...matmulGrid);
        }
        pass.setPipeline(kernel.pipeline);
        pass.setBindGroup(0, group);
        pass.dispatchWorkgroups(layout.workgroups);
      });
      pass.end();
      return;
    }
    const { kernels, layers, indexGroup, indexStride, matmulGrid, stepGrid, projectGrid } = this.perStep!;
    const { T } = this.sizes;
    for (const [l, layer] of layers.entries()) {
      pass.setPipeline(this.model.matmul[l].pipeline);
      pass.setBindGroup(0, layer.matmul);
      pass.dispatchWorkgroups(...matmulGrid);
      for (let t = 0; t < T; t++) {
        const indexOffset = [t * indexStride];
        pass.setPipeline(kernels.step);
        pass.setBindGroup(0, layer.step);
        pass.setBindGroup(1, layer.state[t % 2]);
        pass.setBindGroup(2, indexGroup, indexOffset);
        pass.dispatchWorkgroups(...stepGrid);
        if (kernels.project && layer.project) {
          pass.setPipeline(kernels.project);
          pass.setBindGroup(0, layer.project);
          pass.dispatchWorkgroups(...projectGrid);
        }
      }
    }
    pass.end();
    // After an odd number of steps the final state sits in slot 1; bring it home to slot 0.
    if (T % 2 === 1) {
      const bytes = this.sizes.layerState * F32;
      for (const [slot0, slot1] of this.states) encoder.copyBufferToBuffer(slot1, 0, slot0, 0, bytes);
    }
  }

  /** Records copies of the last layer's output and every layer's final state into the staging buffers. */
  encodeReadback(encoder: GPUCommandEncoder, state: boolean): void {
    const s = this.sizes;
    const last = this.sequences[(this.model.config.num_layers - 1) % 2];
    encoder.copyBufferToBuffer(last, 0, this.outputStaging, 0, s.sequence * F32);
    if (state) this.copyStateOut(encoder, this.stateStaging);
  }

  /** Maps the output staging buffer (after the submit) and returns a host copy (T, B, D·H_out). */
  async readOutput(): Promise<Float32Array> {
    return this.readStaging(this.outputStaging, this.sizes.sequence);
  }

  /** Splits the staged state into h_n (L·D, B, H_out) and c_n (L·D, B, H). */
  async readState(): Promise<{ hN: Float32Array; cN?: Float32Array }> {
    return splitState(this.sizes, await this.readStaging(this.stateStaging, this.states.length * this.sizes.layerState));
  }

  private async readStaging(buffer: GPUBuffer, elements: number): Promise<Float32Array> {
    await buffer.mapAsync(1 /* GPUMapMode.READ */, 0, elements * F32);
    try {
      return new Float32Array(buffer.getMappedRange(0, elements * F32).slice(0));
    } finally {
      buffer.unmap();
    }
  }

  /** GPU bytes this plan holds. */
  get bytes(): number {
    return this.owned.reduce((n, b) => n + b.size, 0);
  }

  /**
   * Gives the plan's buffers back to the pool; with `discard`, destroys them instead (after a failed
   * submission, which may have left them invalid).
   */
  release(discard = false): void {
    for (const b of this.owned) (discard ? this.ctx.discard(b) : this.ctx.release(b));
    this.owned.length = 0;
  }
}

/** State buffer layout (per layer: h (D, B, H_out) then c (D, B, H_c)) → h_n and c_n. */
export function splitState(s: PlanSizes, state: Float32Array): { hN: Float32Array; cN?: Float32Array } {
  const L = s.config.num_layers;
  const hPer = s.hBytes / F32;
  const cPer = s.cBytes / F32;
  const hN = new Float32Array(L * hPer);
  const cN = cPer > 0 ? new Float32Array(L * cPer) : undefined;
  for (let l = 0; l < L; l++) {
    hN.set(state.subarray(l * s.layerState, l * s.layerState + hPer), l * hPer);
    cN?.set(state.subarray(l * s.layerState + hPer, (l + 1) * s.layerState), l * cPer);
  }
  return { hN, cN };
}
