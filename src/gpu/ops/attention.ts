/**
 * Attention over a source on the GPU (shaders/attention.wgsl), forward and backward, for every query
 * row of a batch at once — the layer with attention after the decoder records it (src/train/layers/
 * attention/gpu.ts). The score arrives in one of two forms: a dot product of two operands ("dot": the
 * query and the keys; "general": the query and keys·Wᵀ) or concat's Σ_a v_a tanh(q_a + k_a) of two
 * projections; the projections are GEMMs the layer records. The CPU counterpart is
 * src/reference/attention.ts, row by row. Test: test/ops/attention.test.ts.
 */
import type { GpuContext } from '../context.js';
import { type GpuTensor, gpuTensor, tensorBinding } from '../gpu-tensor.js';
import { type BindingKind, type Command, type Recorder, dispatch, simplePipeline } from '../program.js';
import { ATTENTION_DIMS_FIELDS, packU32Struct } from '../uniforms.js';
import { elementGrid, f32Module, vectorsPerInvocation } from './elementwise.js';
import attentionSource from '../../../shaders/attention.wgsl?raw';

/** Invocations per workgroup of every entry (each invocation owns a row, or one element of a row). */
export const ATTENTION_WORKGROUP_SIZE = 64;

/** The score's form (KIND_* in the shader). */
export const ATTENTION_KIND = { dot: 0, concat: 1 } as const;

export interface AttentionCall {
  readonly label: string;
  readonly T: number;
  readonly B: number;
  readonly S: number;
  /** Width of the keys (the context), of the query, and of the score's operands (H_q, or concat's A). */
  readonly Hk: number;
  readonly Hq: number;
  readonly W: number;
  readonly kind: keyof typeof ATTENTION_KIND;
  /** The source lengths (B, u32). */
  readonly lengths: GpuTensor;
  /** (S·B, H_k) */
  readonly keys: GpuTensor;
  /** The score's operands: (T·B, W) and (S·B, W). "dot" may pass the query and the keys themselves. */
  readonly scoreQ: GpuTensor;
  readonly scoreK: GpuTensor;
  /** The queries (T·B, H_q). */
  readonly q: GpuTensor;
  /** concat: v (W), at any offset (the flat parameters). */
  readonly v?: GpuTensor;
  /** α (T, B, S) and [context | q] (T·B, H_k + H_q): written forward, read backward. */
  readonly alpha: GpuTensor;
  readonly joined: GpuTensor;
  /** Which family of entries: undefined picks (attentionUsesVec4); tests force the scalar one. */
  readonly vec4?: boolean;
}

export interface AttentionBackwardCall extends AttentionCall {
  /** dL/d(joined) (T·B, H_k + H_q). */
  readonly dJoined: GpuTensor;
  /** Scratch (T, B, S): the scores' gradient. */
  readonly dScore: GpuTensor;
  /**
   * Written: dL/dq (T·B, H_q) and dL/dkeys (S·B, H_k) — the score's share included where its operands are
   * q and the keys. dQuery is required, except with fromLoop (the loop wrote dL/dq itself).
   */
  readonly dQuery?: GpuTensor;
  readonly dKeys: GpuTensor;
  /** Written where the operands are projections ("general", "concat"): their gradients, and concat's dL/dv. */
  readonly dScoreQ?: GpuTensor;
  readonly dScoreK?: GpuTensor;
  /** concat's dL/dv, at any offset (the flat gradients). */
  readonly dV?: GpuTensor;
  /**
   * The attentive decoder's loop made the scores' gradient (in dScore) and concat's dL/d(score_q) (in
   * dScoreQ), and took dL/dq itself: only the keys' side is left (dKeys, dScoreK, dV); no dQuery.
   */
  readonly fromLoop?: boolean;
}

/**
 * Whether the `_vec4` entries serve the call: every width a multiple of 4, so each row starts on a vec4
 * boundary (the tensors start their buffers; dims() checks). They load four features at a time and
 * give each invocation of an element entry four outputs — the loads are what bound these loops on
 * software adapters: the date model's attention dispatches took 72 ms per training step on SwiftShader
 * with the scalar entries, 29 ms with these (each dispatch timed alone, Node).
 */
export function attentionUsesVec4(call: Pick<AttentionCall, 'Hk' | 'Hq' | 'W'>): boolean {
  return call.Hk % 4 === 0 && call.Hq % 4 === 0 && call.W % 4 === 0;
}

function vec4Entries(call: AttentionCall): boolean {
  if (call.vec4 && !attentionUsesVec4(call)) throw new Error(`${call.label}: the vec4 entries need H_k, H_q and W multiples of 4`);
  return call.vec4 ?? attentionUsesVec4(call);
}

/**
 * An element entry's features per invocation, and its VECTORS (quads per invocation of the `_vec4`
 * entries), for rows of `width` features: 1 and 1 with the scalar entries; with the vec4 ones, four per
 * quad, and on a software adapter up to 4 quads. Measured on SwiftShader (Chromium, the date model's
 * context, 1,280 rows of 64 quads, each dispatch alone, 5 rounds): 4.36 ms at 1 quad, 3.76 at 2, 3.29
 * at 4; at 16, 5.58 against 4.57 at 1 in another run. At 4, interleaved with 1: the date model's
 * context 4.10 → 3.57 ms, keys' gradient 5.15 → 4.56, query's 3.08 → 2.59; Bahdanau's concat score,
 * whose loops are its tanh, within the drift.
 */
function elementLanes(ctx: GpuContext, call: AttentionCall, width: number): [lanes: number, vectors: number] {
  if (!vec4Entries(call)) return [1, 1];
  const vectors = vectorsPerInvocation(ctx, width / 4, 4);
  return [4 * vectors, vectors];
}

function pipeline(
  rec: Recorder,
  call: AttentionCall,
  entry: string,
  bindings: ReadonlyArray<readonly [number, BindingKind]>,
  scoreOnKeys = false,
  vectors = 1,
) {
  return simplePipeline(
    rec.ctx,
    f32Module(rec.ctx, 'attention', attentionSource),
    vec4Entries(call) && entry !== 'back_v' ? `${entry}_vec4` : entry,
    { WORKGROUP_SIZE: ATTENTION_WORKGROUP_SIZE, KIND: ATTENTION_KIND[call.kind], SCORE_ON_KEYS: scoreOnKeys, VECTORS: vectors },
    bindings,
  );
}

function dims(rec: Recorder, call: AttentionCall, dV?: GpuTensor): GPUBufferBinding {
  // The shader indexes every tensor from its buffer's start but v and dL/dv (flat parameters and gradients).
  const { v, dV: _, ...rest } = call as AttentionBackwardCall;
  for (const [name, t] of Object.entries(rest)) {
    if (t && typeof t === 'object' && 'buffer' in t && (t as GpuTensor).offset !== 0)
      throw new Error(`${call.label}: ${name} must start its buffer (offset ${(t as GpuTensor).offset})`);
  }
  return rec.uniform(
    `${call.label}.dims`,
    packU32Struct(ATTENTION_DIMS_FIELDS, {
      T: call.T,
      B: call.B,
      S: call.S,
      H_k: call.Hk,
      H_q: call.Hq,
      W: call.W,
      J: call.Hk + call.Hq,
      v_offset: v?.offset ?? 0,
      dv_offset: dV?.offset ?? 0,
    }),
  );
}

/** α and [context | q] for every query row: the scores per row, then the context per (row, feature). */
export function recordAttend(rec: Recorder, call: AttentionCall): Command[] {
  const bindings: ReadonlyArray<readonly [number, BindingKind]> = [
    [0, 'uniform'],
    [1, 'read'],
    [2, 'read'],
    [3, 'read'],
    [4, 'read'],
    [5, 'read'],
    [6, 'write'],
    [7, 'write'],
    [10, 'read'],
  ];
  const d = dims(rec, call);
  const grid = (n: number) => elementGrid(rec.ctx, n);
  const [lanes, vectors] = elementLanes(rec.ctx, call, call.Hk + call.Hq);
  return (
    [
      ['attend_scores', call.T * call.B, 1],
      ['attend_context', (call.T * call.B * (call.Hk + call.Hq)) / lanes, vectors],
    ] as const
  ).map(([entry, n, vectors]) => {
    const p = pipeline(rec, call, entry, bindings, false, vectors);
    const group = rec.ctx.bindGroupAt(`${call.label}.${entry}`, p.layout, [
      [0, d],
      [1, tensorBinding(call.lengths)],
      [2, tensorBinding(call.keys)],
      [3, tensorBinding(call.scoreQ)],
      [4, tensorBinding(call.scoreK)],
      [5, tensorBinding(call.q)],
      [6, tensorBinding(call.alpha)],
      [7, tensorBinding(call.joined)],
      [10, tensorBinding(call.v ?? call.lengths)],
    ]);
    return dispatch(`${call.label}.${entry}`, p.pipeline, [group], grid(n));
  });
}

/**
 * The way back from dL/d(joined): the scores' gradient, then dL/dkeys (the context's share, and the
 * score's where the keys are its operand), dL/dq (likewise), the projections' and v's gradients.
 */
export function recordAttendBackward(rec: Recorder, call: AttentionBackwardCall): Command[] {
  const { ctx } = rec;
  const d = dims(rec, call, call.dV);
  const { T, B, S, Hk, Hq, W } = call;
  const bind = (
    label: string,
    entry: string,
    kinds: ReadonlyArray<readonly [number, BindingKind]>,
    resources: Record<number, GpuTensor | GPUBufferBinding>,
    grid: [number, number, number],
    scoreOnKeys = false,
    vectors = 1,
  ) => {
    const p = pipeline(rec, call, entry, [[0, 'uniform'], ...kinds], scoreOnKeys, vectors);
    const group = ctx.bindGroupAt(label, p.layout, [
      [0, d],
      ...kinds.map(([b]) => {
        const r = resources[b];
        return [b, 'buffer' in r && 'shape' in r ? tensorBinding(r) : (r as GPUBufferBinding)] as [number, GPUBufferBinding];
      }),
    ]);
    return dispatch(label, p.pipeline, [group], grid);
  };
  const grid = (n: number) => elementGrid(ctx, n) as [number, number, number];
  // Element entries: an invocation per feature, or per quad or quads with the vec4 entries.
  const lanes = vec4Entries(call) ? 4 : 1;
  const keyLanes = elementLanes(ctx, call, Hk);
  const queryLanes = elementLanes(ctx, call, W); // back_query's rows: W wide (on "dot", W = H_q)
  const scoreKeyLanes = elementLanes(ctx, call, W);
  const commands: Command[] = [];
  if (!call.fromLoop) {
    commands.push(
      bind(
        `${call.label}.scores`,
        'back_scores',
        [
          [1, 'read'],
          [2, 'read'],
          [6, 'write'],
          [7, 'write'],
          [8, 'write'],
        ],
        { 1: call.lengths, 2: call.keys, 6: call.alpha, 7: call.dJoined, 8: call.dScore },
        grid(T * B),
      ),
    );
  }
  // On "dot" the keys are the score's operand: their two shares in one pass.
  const scoreOnKeys = call.kind === 'dot' && call.scoreK === call.keys;
  commands.push(
    bind(
      `${call.label}.keys`,
      'back_keys',
      [
        [1, 'read'],
        [3, 'read'],
        [6, 'write'],
        [7, 'write'],
        [8, 'write'],
        [9, 'write'],
      ],
      { 1: call.lengths, 3: call.scoreQ, 6: call.alpha, 7: call.dJoined, 8: call.dScore, 9: call.dKeys },
      grid((S * B * Hk) / keyLanes[0]),
      scoreOnKeys,
      keyLanes[1],
    ),
  );
  const query: ReadonlyArray<readonly [number, BindingKind]> = [
    [1, 'read'],
    [3, 'read'],
    [4, 'read'],
    [7, 'write'],
    [8, 'write'],
    [9, 'write'],
    [10, 'read'],
  ];
  const v = call.v ?? call.lengths;
  const dQuery = call.dQuery;
  if (!call.fromLoop && !dQuery) throw new Error(`${call.label}: dQuery is needed unless the loop took dL/dq (fromLoop)`);
  if (call.fromLoop || !dQuery) {
    // dL/dq and dL/d(score_q) came from the loop.
  } else if (call.kind === 'dot') {
    // dL/dq = its direct share in joined + the score's (whose other operand is score_k).
    commands.push(
      bind(
        `${call.label}.query`,
        'back_query',
        query,
        { 1: call.lengths, 3: call.scoreQ, 4: call.scoreK, 7: call.dJoined, 8: call.dScore, 9: dQuery, 10: v },
        grid((T * B * W) / queryLanes[0]),
        false,
        queryLanes[1],
      ),
    );
  } else {
    commands.push(
      bind(
        `${call.label}.direct`,
        'back_direct',
        [
          [7, 'write'],
          [9, 'write'],
        ],
        { 7: call.dJoined, 9: dQuery },
        grid((T * B * Hq) / lanes),
      ),
      bind(
        `${call.label}.scoreQ`,
        'back_query',
        query,
        { 1: call.lengths, 3: call.scoreQ, 4: call.scoreK, 7: call.dJoined, 8: call.dScore, 9: call.dScoreQ!, 10: v },
        grid((T * B * W) / queryLanes[0]),
        false,
        queryLanes[1],
      ),
    );
  }
  // concat: each (key row, a)'s share of dL/dv, from the tanh back_score_keys evaluates anyway; back_v
  // sums them. "general" binds a placeholder there ("dot" on the keys has no back_score_keys).
  const partials = call.kind === 'concat' ? S * B * W : 4;
  const vPartials = scoreOnKeys ? undefined : gpuTensor(rec.storage(`${call.label}.vPartials`, partials), [partials]);
  if (vPartials) {
    commands.push(
      bind(
        `${call.label}.scoreK`,
        'back_score_keys',
        [
          [1, 'read'],
          [3, 'read'],
          [4, 'read'],
          [8, 'write'],
          [9, 'write'],
          [10, 'read'],
          [11, 'write'],
        ],
        { 1: call.lengths, 3: call.scoreQ, 4: call.scoreK, 8: call.dScore, 9: call.dScoreK!, 10: v, 11: vPartials },
        grid((S * B * W) / scoreKeyLanes[0]),
        false,
        scoreKeyLanes[1],
      ),
    );
  }
  if (call.kind === 'concat') {
    commands.push(
      bind(
        `${call.label}.v`,
        'back_v',
        [
          [9, 'write'],
          [11, 'write'],
        ],
        { 9: call.dV!, 11: vPartials! },
        grid(W),
      ),
    );
  }
  return commands;
}
