/**
 * A decoder with attention inside its recurrence (Bahdanau's placement), trained on the GPU
 * (shaders/attentive-decoder.wgsl): the whole forward — every step's attention, context and every
 * stacked layer's step — in one dispatch, and the whole reverse loop in one more, one workgroup per block
 * of batch rows. The layer (src/train/layers/attentive-decoder/gpu.ts) records around them the score's
 * projections of the keys, and afterwards the attention's own backward over all steps
 * (gpu/ops/attention.ts) and the weight gradients as GEMMs. The CPU counterpart is
 * src/reference/attentive-decoder.ts. Test: test/ops/attentive-decoder.test.ts.
 */
import { type RnnConfig, outputSize } from '../../config.js';
import { RnnError } from '../../errors.js';
import { type GpuTensor, tensorBinding } from '../gpu-tensor.js';
import { type Command, type Recorder, dispatch, simplePipeline, tileCount } from '../program.js';
import { GATE_LANES } from '../layer-weights.js';
import { modeGateLanes, recordGemm } from './gemm.js';
import { ATTENTIVE_DIMS_FIELDS, ATTENTIVE_RUN_FIELDS, packU32Struct } from '../uniforms.js';
import { MODE_CODE } from '../wgsl.js';
import { f32Module } from './elementwise.js';
import source from '../../../shaders/attentive-decoder.wgsl?raw';

/** Invocations sharing one batch row's loops. */
export const ATTENTIVE_WORKGROUP_SIZE = 64;
/**
 * The most vec4 the backward stages in workgroup memory (16 KiB, WebGPU's guaranteed
 * maxComputeWorkgroupStorageSize): the block's rows × hidden_size gate gradients of a step. Past it the
 * products read them from `grad`.
 */
export const ATTENTIVE_STAGE_MAX_VEC4 = 1024;
/** The most stacked layers the kernel takes (MAX_LAYERS in the shader: the per-layer offsets are a uniform array). */
export const ATTENTIVE_MAX_LAYERS = 8;

/**
 * Batch rows per workgroup (BLOCK_B; at most MAX_BLOCK_B = 4 in the shader): every weight a step reads
 * serves that many rows. Four once the batch gives 8 workgroups or more, else fewer (parallelism).
 */
export function attentiveBlockRows(B: number): number {
  return B >= 32 ? 4 : B >= 8 ? 2 : 1;
}

export interface AttentiveShape {
  readonly config: RnnConfig;
  readonly T: number;
  readonly B: number;
  readonly S: number;
  /** The target embedding's width, the keys' width, and concat's attention size (0 otherwise). */
  readonly E: number;
  readonly Hk: number;
  readonly A: number;
}

/** Float offsets in `saved` (forward) and `grad` (backward), as AttentiveDims names them, and the sizes. */
export interface AttentiveLayout {
  readonly saved: {
    x0: number;
    x1: number;
    pre: number;
    c: number;
    hPrev: number;
    cPrev: number;
    alpha: number;
    query: number;
    scoreQ: number;
    output: number;
    state: number;
    size: number;
  };
  readonly grad: { dgx: number; dgh: number; dh: number; dc: number; direct: number; dscore: number; dsq: number; djoined: number; size: number };
  /** One layer's state: h (B, H_out), then c (B, H) for LSTM. */
  readonly layerState: number;
}

/** Why the kernel cannot run `config`, or undefined. */
export function attentiveUnfit(config: RnnConfig): string | undefined {
  if (config.proj_size > 0) return 'proj_size > 0 (the attentive decoder kernel has no projection)';
  if (config.num_layers > ATTENTIVE_MAX_LAYERS) return `num_layers ${config.num_layers} > ${ATTENTIVE_MAX_LAYERS}`;
  return undefined;
}

export function attentiveLayout(s: AttentiveShape): AttentiveLayout {
  const { config, T, B, S, E, Hk, A } = s;
  const L = config.num_layers;
  const H = config.hidden_size;
  const Hq = outputSize(config);
  const lstm = config.mode === 'LSTM';
  const TB = T * B;
  const layerState = B * Hq + (lstm ? B * H : 0);
  let at = 0;
  // Every part starts at a multiple of 4 floats: the GEMMs on layer 0's parts take their vec4 paths.
  const take = (n: number) => {
    const here = at;
    at += Math.ceil(n / 4) * 4;
    return here;
  };
  const saved = {
    x0: take(TB * (E + Hk)),
    x1: take((L - 1) * TB * Hq),
    pre: take(L * TB * H * 4),
    c: take(lstm ? L * TB * H : 0),
    hPrev: take(L * TB * Hq),
    cPrev: take(lstm ? L * TB * H : 0),
    alpha: take(TB * S),
    query: take(TB * Hq),
    scoreQ: take(TB * A),
    output: take(TB * Hq),
    state: take(2 * L * layerState),
    size: 0,
  };
  saved.size = at;
  at = 0;
  const dgx = take(L * TB * H * 4);
  const grad = {
    dgx,
    dgh: config.mode === 'GRU' ? take(L * TB * H * 4) : dgx,
    dh: take(L * B * Hq),
    dc: take(lstm ? L * B * H : 0),
    direct: take(B * Hq),
    dscore: take(TB * S),
    dsq: take(TB * A),
    djoined: take(TB * (Hk + Hq)),
    size: 0,
  };
  grad.size = at;
  return { saved, grad, layerState };
}

/** A stacked layer's packed weights in the flat parameters: vec4 offsets of W_ih, b_ih, W_hh, b_hh. */
export interface AttentiveLayerParams {
  readonly wIh: number;
  readonly bIh: number;
  readonly wHh: number;
  readonly bHh: number;
}

export interface AttentiveDecoderCall extends AttentiveShape {
  readonly label: string;
  /** "dot" for a dot product of q and score_k ("dot" and "general"), "concat" for Σ v tanh(W_q q + score_k). */
  readonly kind: 'dot' | 'concat';
  readonly layers: readonly AttentiveLayerParams[];
  /** concat: float offsets of W_q (A, H_q) and v (A) in the flat parameters. */
  readonly wq?: number;
  readonly v?: number;
  /** Dropout between stacked layers: its probability while training, and layer l's stream is streamBase + l. */
  readonly dropout: number;
  readonly streamBase: number;
  readonly lengths: GpuTensor;
  readonly params: GpuTensor;
  readonly keys: GpuTensor;
  /** (S·B, H_q), or concat's (S·B, A); "dot" passes the keys. */
  readonly scoreK: GpuTensor;
  /** e (T·B, E), and the initial states (L · layerState). */
  readonly embedded: GpuTensor;
  readonly initial: GpuTensor;
  readonly saved: GpuTensor;
  /** The backward's buffer (attentiveLayout's grad); a small placeholder for a forward alone. */
  readonly grad: GpuTensor;
  /** Rows per workgroup (tests force each; default attentiveBlockRows). */
  readonly blockRows?: number;
  /** Whether the backward stages the block's gate gradients in workgroup memory (tests force each; default: where they fit). */
  readonly staged?: boolean;
}

export interface RecordedAttentive {
  /** The embedding's share of layer 0's gates (a GEMM), then the loop. */
  readonly forward: Command[];
  /**
   * The reverse loop from dL/d(output) (T·B, H_out), then dL/de (T·B, E) into `dEmbedded` (a GEMM; none
   * without it); dL/dh and dL/dc of the final states must already be in `grad` (or zeros).
   */
  backward(dOutput: GpuTensor, dEmbedded?: GpuTensor): Command[];
  /** Before a replay: the step's dropout seed, and whether it drops (training) or not. */
  set(queue: GPUQueue, seed: number, training: boolean): void;
}

export function recordAttentiveDecoder(rec: Recorder, call: AttentiveDecoderCall): RecordedAttentive {
  const { ctx } = rec;
  const { config, T, B, S, E, Hk, A } = call;
  const unfit = attentiveUnfit(config);
  if (unfit) throw new RnnError('OPTION_INVALID', `${call.label}: ${unfit}`);
  for (const [name, t] of Object.entries({
    lengths: call.lengths,
    keys: call.keys,
    scoreK: call.scoreK,
    embedded: call.embedded,
    initial: call.initial,
    saved: call.saved,
    grad: call.grad,
  })) {
    if (t.offset !== 0) throw new Error(`${call.label}: ${name} must start its buffer (offset ${t.offset})`);
  }
  if (E < 1) throw new Error(`${call.label}: layer 0 reads an embedded input (E ≥ 1), got E = ${E}`);
  if ((call.wq ?? 0) % 4 !== 0) throw new Error(`${call.label}: W_q must start at a multiple of 4 floats (${call.wq})`);
  const layout = attentiveLayout(call);
  const L = config.num_layers;
  const kinds = [
    [0, 'uniform'],
    [1, 'uniform'],
    [2, 'uniform'],
    [3, 'read'],
    [4, 'read'],
    [5, 'read'],
    [6, 'read'],
    [7, 'read'],
    [8, 'read'],
    [9, 'write'],
    [10, 'write'],
  ] as const;
  const blockRows = call.blockRows ?? attentiveBlockRows(B);
  const stageVec4 = blockRows * config.hidden_size;
  const staged = call.staged ?? stageVec4 <= ATTENTIVE_STAGE_MAX_VEC4;
  if (staged && stageVec4 > ATTENTIVE_STAGE_MAX_VEC4)
    throw new Error(`${call.label}: ${blockRows} rows of hidden_size ${config.hidden_size} do not fit the stage`);
  const constants = {
    MODE: MODE_CODE[config.mode],
    WORKGROUP_SIZE: ATTENTIVE_WORKGROUP_SIZE,
    CONCAT: call.kind === 'concat',
    BLOCK_B: blockRows,
    STAGED: staged,
    STAGE_VEC4: staged ? stageVec4 : 1,
  };
  const module = f32Module(ctx, 'attentive-decoder', source, ['train-rng']);
  const forward = simplePipeline(ctx, module, 'attentive_forward', constants, kinds);
  const backward = simplePipeline(ctx, module, 'attentive_backward', constants, kinds);
  const { saved: s, grad: g } = layout;
  const dims = rec.uniform(
    `${call.label}.dims`,
    packU32Struct(ATTENTIVE_DIMS_FIELDS, {
      T,
      B,
      S,
      E,
      H_k: Hk,
      H_q: outputSize(config),
      H: config.hidden_size,
      L,
      A,
      wq_at: call.wq ?? 0,
      v_at: call.v ?? 0,
      stream_base: call.streamBase,
      x0_at: s.x0,
      x1_at: s.x1,
      pre_at: s.pre,
      c_at: s.c,
      h_prev_at: s.hPrev,
      c_prev_at: s.cPrev,
      alpha_at: s.alpha,
      query_at: s.query,
      score_q_at: s.scoreQ,
      output_at: s.output,
      state_at: s.state,
      layer_state: layout.layerState,
      dgx_at: g.dgx,
      dgh_at: g.dgh,
      dh_at: g.dh,
      dc_at: g.dc,
      direct_at: g.direct,
      dscore_at: g.dscore,
      dsq_at: g.dsq,
      djoined_at: g.djoined,
    }),
  );
  const offsets = new Uint32Array(4 * 8);
  call.layers.forEach((p, l) => offsets.set([p.wIh, p.bIh, p.wHh, p.bHh], 4 * l));
  const layerParams = rec.uniform(`${call.label}.layers`, offsets);
  const runFields = (seed: number, p: number) => packU32Struct(ATTENTIVE_RUN_FIELDS, { seed: seed >>> 0, p });
  const run = rec.uniform(`${call.label}.run`, runFields(0, 0));
  // Layer 0's share of its input that is the embedding, e·W_ih[:, :E]ᵀ + b_ih for every step at once, is a
  // GEMM before the loop into layer 0's pre-activation slots (the loop adds the context's share and the
  // recurrent term in place); its way back, dL/de = dg_x·W_ih[:, :E], a GEMM after it. The loop keeps
  // only the context's columns, which the next step's attention depends on.
  const TB = T * B;
  const N4 = config.hidden_size * GATE_LANES;
  const embeddedShare = {
    M: TB,
    N: N4,
    K: E,
    batch: 1,
    aBatchStride: 0,
    b: { ...call.params, offset: call.params.offset + call.layers[0].wIh * GATE_LANES, shape: [E, N4] },
    bBatchStride: 0,
    cBatchStride: 0,
    biasBatchStride: 0,
    format: 'f32' as const,
    gateLanes: modeGateLanes(config.mode, 'columns'),
  };
  const bIh0: GpuTensor = { ...call.params, offset: call.params.offset + call.layers[0].bIh * GATE_LANES, shape: [N4] };
  const layer0Pre: GpuTensor = { ...call.saved, offset: s.pre, shape: [TB, N4] };
  const layer0Dgx: GpuTensor = { ...call.grad, offset: g.dgx, shape: [TB, N4] };
  const grid: [number, number, number] = [tileCount(B, blockRows, ctx.limits.maxComputeWorkgroupsPerDimension, 'attentive decoder row blocks (batch)'), 1, 1];
  const group = (label: string, p: { layout: GPUBindGroupLayout }, seventh: GpuTensor) =>
    ctx.bindGroupAt(label, p.layout, [
      [0, dims],
      [1, layerParams],
      [2, run],
      [3, tensorBinding(call.lengths)],
      [4, tensorBinding(call.params, true)],
      [5, tensorBinding(call.keys)],
      [6, tensorBinding(call.scoreK)],
      [7, tensorBinding(seventh)],
      [8, tensorBinding(call.initial)],
      [9, tensorBinding(call.saved)],
      [10, tensorBinding(call.grad)],
    ]);
  return {
    forward: [
      recordGemm(rec, { ...embeddedShare, label: `${call.label}.embeddedGates`, a: call.embedded, c: layer0Pre, bias: bIh0 }),
      dispatch(`${call.label}.forward`, forward.pipeline, [group(`${call.label}.forward`, forward, call.embedded)], grid),
    ],
    backward(dOutput, dEmbedded) {
      if (dOutput.offset !== 0) throw new Error(`${call.label}: dOutput must start its buffer (offset ${dOutput.offset})`);
      const loop = dispatch(`${call.label}.backward`, backward.pipeline, [group(`${call.label}.backward`, backward, dOutput)], grid);
      if (!dEmbedded) return [loop];
      if (dEmbedded.buffer === call.grad.buffer) throw new Error(`${call.label}: dL/de must not share the grad buffer (the GEMM reads it)`);
      return [
        loop,
        recordGemm(rec, {
          ...embeddedShare,
          label: `${call.label}.dEmbedded`,
          N: E,
          K: N4,
          a: layer0Dgx,
          c: dEmbedded,
          transB: true,
          gateLanes: modeGateLanes(config.mode, 'k'),
        }),
      ];
    },
    set(queue, seed, training) {
      queue.writeBuffer(run.buffer, run.offset ?? 0, runFields(seed, training ? call.dropout : 0));
    },
  };
}
