/**
 * Recording one recurrent layer's forward over T steps from the ops — the input projection (GEMM),
 * then per step the recurrence (and the LSTM projection), or the whole loop in one persistent
 * dispatch — onto tensors the caller owns. The inference plan (sequence-plan.ts) and the training
 * plan (the recurrent layer of src/train/layers/, which also keeps each step's activations) both record their layers
 * with it.
 */
import type { RnnConfig } from '../config.js';
import { F32_BYTES as F32 } from './constants.js';
import { type GpuTensor, gpuTensor, tensorBinding } from './gpu-tensor.js';
import { GATE_LANES, type ParamOffsets } from './layer-weights.js';
import { recordEmbeddingGather } from './ops/embedding.js';
import { modeGateLanes, recordGemm } from './ops/gemm.js';
import type { PersistentKernel } from './ops/persistent.js';
import { projectionGrid, projectionLayout, projectionPipeline } from './ops/projection.js';
import { chooseStepLayout, stepGrid, stepLayouts, stepPipeline } from './ops/recurrent-step.js';
import { type Command, type Recorder, dispatch } from './program.js';
import { PERSISTENT_DIMS_FIELDS, SAVE_DIMS_FIELDS, STEP_DIMS_FIELDS, packU32Struct } from './uniforms.js';
import type { WeightFormat } from './wgsl.js';

/** A layer's weights as the kernels bind them: the packed section in `params` (which may hold more), W_hr. */
export interface LayerParams {
  /** The packed layer; `offset` (floats) is where its section starts, a multiple of 4. */
  readonly params: GpuTensor;
  readonly offsets: ParamOffsets;
  readonly wHr?: GpuTensor;
  readonly inputSize: number;
  /** W_hh as a texture (LayerWeights.wHhTexture): the wide step kernel and the persistent loops read it instead of `params`. */
  readonly wHhTexture?: GPUTexture;
}

/** Where a training forward keeps a layer's activations (see SAVE in shaders/recurrent-step.wgsl). */
export interface SaveTarget {
  readonly saved: GpuTensor;
  /** Float offsets in `saved` of the pre-activations (D, T, B, H, 4), c_t and h_raw (D, T, B, H). */
  readonly pre: number;
  readonly c: number;
  readonly hRaw: number;
  /** With recurrent dropout: where its scales of h_{t−1} (D, B, H_out) are, filled before the layer runs. */
  readonly mask?: number;
}

function saveDims(save: SaveTarget | undefined) {
  return packU32Struct(SAVE_DIMS_FIELDS, { pre: save?.pre ?? 0, c: save?.c ?? 0, h_raw: save?.hRaw ?? 0, mask: save?.mask ?? 0 });
}

export interface LayerCall {
  readonly tag: string;
  readonly config: RnnConfig;
  readonly format: WeightFormat;
  readonly T: number;
  readonly B: number;
  readonly weights: LayerParams;
  /** (T·B, I), (T·B, D·H_out), the lengths (B, u32). */
  readonly input: GpuTensor;
  readonly output: GpuTensor;
  readonly lengths: GpuTensor;
  /** (D, T·B, H, 4): the input projection, made here. Absent with a fused persistent kernel. */
  readonly gx?: GpuTensor;
  /**
   * The input as rows of a table picked by ids (an embedding's output, not made): gx is then the
   * table's projection — W_ih·row + b_ih for each of its V rows, into `projected` (D, V, H, 4) — gathered
   * by id, V·I·4H multiply-adds instead of T·B·I·4H. `input` is not read.
   */
  readonly lookup?: InputLookup;
}

export interface InputLookup {
  /** (V, I) */
  readonly table: GpuTensor;
  /** (T·B) u32 */
  readonly ids: GpuTensor;
  /** (D, V, H, 4) */
  readonly projected: GpuTensor;
}

/** Absolute vec4 offsets of a layer's parts in its `params` binding. */
function absolute(w: LayerParams) {
  const base = w.params.offset / GATE_LANES;
  return { wIh: base + w.offsets.wIh, bIh: base + w.offsets.bIh, wHh: base + w.offsets.wHh, bHh: base + w.offsets.bHh, wHr: w.wHr?.offset ?? 0 };
}

/**
 * gx (D, T·B, H, 4) = W_ih·x_t + b_ih for every step and direction: one GEMM, batched over directions;
 * with a lookup, the same GEMM over the table's rows, then each direction's rows gathered by id.
 */
export function recordInputProjection(rec: Recorder, call: LayerCall): Command[] {
  const { T, B, config, lookup } = call;
  const D = config.bidirectional ? 2 : 1;
  const H = config.hidden_size;
  const N = H * GATE_LANES;
  const w = call.weights;
  const base = w.params.offset;
  const M = lookup ? lookup.table.shape[0] : T * B;
  const projection = recordGemm(rec, {
    label: `${call.tag}.inputProjection`,
    M,
    N,
    K: w.inputSize,
    batch: D,
    a: lookup ? lookup.table : call.input,
    aBatchStride: 0,
    b: { ...w.params, offset: base + w.offsets.wIh * GATE_LANES, shape: [w.inputSize, N] },
    bBatchStride: w.inputSize * N,
    bias: { ...w.params, offset: base + w.offsets.bIh * GATE_LANES, shape: [N] },
    biasBatchStride: N,
    c: lookup ? lookup.projected : call.gx!,
    cBatchStride: M * N,
    format: call.format,
    gateLanes: modeGateLanes(config.mode, 'columns'),
  });
  if (!lookup) return [projection];
  const gathers = Array.from({ length: D }, (_, d) =>
    recordEmbeddingGather(rec, {
      label: `${call.tag}.gatherProjection${d}`,
      tokens: lookup.ids,
      first: 0,
      rows: T * B,
      table: { ...lookup.projected, offset: lookup.projected.offset + d * M * N, shape: [M, N] },
      E: N,
      out: { ...call.gx!, offset: call.gx!.offset + d * T * B * N, shape: [T * B, N] },
    }),
  );
  return [projection, ...gathers];
}

/** What the per-step path shares across the layers of a plan: the step index uniform. */
export interface StepIndex {
  readonly uniform: GPUBufferBinding;
  readonly stride: number;
}

export function stepIndex(rec: Recorder, T: number): StepIndex {
  // Entry s at byte offset s·stride, bound 16 bytes at a time with a dynamic offset.
  const stride = rec.ctx.limits.minUniformBufferOffsetAlignment;
  const indices = new Uint32Array((T * stride) / F32);
  for (let t = 0; t < T; t++) indices[(t * stride) / F32] = t;
  return { uniform: rec.uniform('stepIndex', indices), stride };
}

/**
 * The per-step path: the input projection, then T step dispatches (each followed by the projection's
 * with proj_size), the state ping-ponging between `states`; after an odd T the final state is in
 * states[1]. With `save`, each step also keeps its activations.
 */
export function recordPerStepLayer(
  rec: Recorder,
  call: LayerCall,
  index: StepIndex,
  states: readonly [GpuTensor, GpuTensor],
  hRaw: GpuTensor | undefined,
  save?: SaveTarget,
): Command[] {
  const { ctx } = rec;
  const { T, B, config, tag } = call;
  const D = config.bidirectional ? 2 : 1;
  const H = config.hidden_size;
  const Hout = config.proj_size || H;
  const layout = chooseStepLayout(H, Hout, D, B, ctx.isSoftwareAdapter);
  const layouts = stepLayouts(ctx);
  const hasProjection = config.proj_size > 0;
  const at = absolute(call.weights);
  const dims = rec.uniform(
    `${tag}.stepDims`,
    packU32Struct(STEP_DIMS_FIELDS, {
      T,
      B,
      H,
      H_out: Hout,
      D,
      w_hh_offset: at.wHh,
      b_hh_offset: at.bHh,
      w_hr_offset: at.wHr,
    }),
  );
  const saveUniform = rec.uniform(`${tag}.saveDims`, saveDims(save));
  const lengths = tensorBinding(call.lengths);
  const output = tensorBinding(call.output);
  // The wide entry reads W_hh from its texture where the weights have one; other steps bind a placeholder.
  const texture = layout.wideGroups > 0 ? call.weights.wHhTexture : undefined;
  const main = ctx.bindGroupAt(`${tag}.step`, layouts.main, [
    [0, dims],
    [1, lengths],
    [2, tensorBinding(call.gx!)],
    [3, tensorBinding(call.weights.params, true)],
    [4, hRaw ? tensorBinding(hRaw) : output],
    [6, ctx.textureBinding(texture)],
  ]);
  const [a, b] = states.map((s) => tensorBinding(s, true));
  const state = [ctx.bindGroup(`${tag}.state0to1`, layouts.state, [a, b, a]), ctx.bindGroup(`${tag}.state1to0`, layouts.state, [b, a, b])];
  // Inference binds a placeholder where training keeps its activations (the layout is the same).
  const saved = save ? tensorBinding(save.saved) : tensorBinding(gpuTensor(rec.storage(`${tag}.noSave`, 4), [4]));
  const indexGroup = ctx.bindGroup(`${tag}.stepIndex`, layouts.index, [{ ...index.uniform, size: 16 }, saveUniform, saved]);
  const step = stepPipeline(ctx, config.mode, hasProjection, layout, call.format, save !== undefined, save?.mask !== undefined, texture !== undefined);
  const grid = stepGrid(H, D, B, layout, ctx.limits);
  const project =
    hRaw && call.weights.wHr
      ? {
          pipeline: projectionPipeline(ctx, call.format),
          group: ctx.bindGroupAt(`${tag}.project`, projectionLayout(ctx), [
            [0, dims],
            [1, lengths],
            [4, output],
            [5, tensorBinding(call.weights.wHr, true)],
            [6, tensorBinding(hRaw)],
          ]),
          grid: projectionGrid(D, B, Hout, ctx.limits),
        }
      : undefined;
  const commands: Command[] = recordInputProjection(rec, call);
  for (let t = 0; t < T; t++) {
    const offsets = { group: indexGroup, offsets: [t * index.stride] };
    commands.push(dispatch(`${tag}.step${t}`, step, [main, state[t % 2], offsets], grid));
    if (project) commands.push(dispatch(`${tag}.project${t}`, project.pipeline, [project.group, state[t % 2], offsets], project.grid));
  }
  return commands;
}

/** The persistent path: the input projection (unless fused), then one dispatch for the whole loop. */
export function recordPersistentLayer(rec: Recorder, call: LayerCall, kernel: PersistentKernel, state: GpuTensor, save?: SaveTarget): Command[] {
  const { ctx } = rec;
  const { T, B, config, tag } = call;
  const D = config.bidirectional ? 2 : 1;
  const H = config.hidden_size;
  const at = absolute(call.weights);
  if (kernel.recurrentMask !== (save?.mask !== undefined)) throw new Error(`${tag}: the persistent kernel and the recurrent dropout mask disagree`);
  const texture = call.weights.wHhTexture;
  if (kernel.wTexture && !texture) throw new Error(`${tag}: the persistent kernel reads a W_hh texture this layer's weights do not have`);
  const dims = rec.uniform(
    `${tag}.persistentDims`,
    packU32Struct(PERSISTENT_DIMS_FIELDS, {
      T,
      B,
      H,
      H_out: config.proj_size || H,
      D,
      I: call.weights.inputSize,
      w_ih_offset: at.wIh,
      b_ih_offset: at.bIh,
      w_hh_offset: at.wHh,
      b_hh_offset: at.bHh,
      w_hr_offset: at.wHr,
    }),
  );
  const params = tensorBinding(call.weights.params, true);
  const group = ctx.bindGroup(`${tag}.persistent`, kernel.layout, [
    dims,
    tensorBinding(call.lengths),
    tensorBinding(call.input),
    params,
    tensorBinding(call.output),
    call.weights.wHr ? tensorBinding(call.weights.wHr, true) : params, // no projection: any read-only binding fills the slot
    tensorBinding(state),
    call.gx ? tensorBinding(call.gx) : params, // fused: gx unused
    ctx.textureBinding(kernel.wTexture ? texture : undefined),
  ]);
  // Inference binds a placeholder where training keeps its activations (the layout is the same).
  const saveGroup = ctx.bindGroup(`${tag}.persistentSave`, kernel.saveLayout, [
    rec.uniform(`${tag}.persistentSaveDims`, saveDims(save)),
    save ? tensorBinding(save.saved) : tensorBinding(gpuTensor(rec.storage(`${tag}.noSave`, 4), [4])),
  ]);
  return [...(call.gx ? recordInputProjection(rec, call) : []), dispatch(`${tag}.persistent`, kernel.pipeline, [group, saveGroup], kernel.grid)];
}
