/**
 * Continuing a prompt with a trained language model (an embedding, a unidirectional rnn, a head on
 * every step, cross_entropy), sampling on the GPU: the prompt runs through the model, then each new
 * token — drawn from the last position's logits with temperature and top-k (shaders/sample.wgsl) —
 * goes back in as the next input, all recorded as one command list and submitted once; only the
 * generated tokens are read back. The CPU reference does the same on the float64 model with the same
 * random draws (train/rng.ts), so with τ = 0 (greedy) both give the same tokens.
 */
import { numDirections, outputSize } from '../config.js';
import { RnnError, describeValue } from '../errors.js';
import { type GpuTensor, gpuTensor, tensorBinding } from '../gpu/gpu-tensor.js';
import { type LayerParams, recordPerStepLayer, stepIndex } from '../gpu/layer-record.js';
import { GATE_LANES } from '../gpu/layer-weights.js';
import { recordGemm } from '../gpu/ops/gemm.js';
import { ELEMENTWISE_WORKGROUP_SIZE, embeddingPipeline, samplePipeline } from '../gpu/ops/train-elementwise.js';
import { type Command, type Recorder, copy, dispatch, linearGrid } from '../gpu/program.js';
import { EMBEDDING_DIMS_FIELDS, SAMPLE_DIMS_FIELDS, packU32Struct } from '../gpu/uniforms.js';
import { trainForward } from '../reference/train-forward.js';
import type { PreparedBatch } from './batch.js';
import { type ModelConfig, outputFeatures, rnnFeatures } from './config.js';
import type { FlatLayout } from './layout.js';
import { uniform01 } from './rng.js';

export interface SampleOptions {
  /** 0: greedy (the most likely token). Default 1. */
  temperature?: number;
  /** Draw among the k most likely tokens only (0: all). Default 0. */
  topK?: number;
  /** Tokens to generate. Default 100. */
  maxTokens?: number;
  seed?: number;
}

export interface ResolvedSample {
  temperature: number;
  topK: number;
  maxTokens: number;
  seed: number;
}

/** Checks that the model is a language model and the options make sense. */
export function resolveSample(model: ModelConfig, prompt: ArrayLike<number>, options: SampleOptions): ResolvedSample {
  if (!model.embedding || !model.head || model.head.on !== 'output' || model.loss !== 'cross_entropy' || model.rnn.bidirectional) {
    throw new RnnError(
      'OPTION_INVALID',
      'sample: needs a language model — an embedding, a unidirectional rnn and a head on every step, trained with cross_entropy',
    );
  }
  const V = model.embedding.num_embeddings;
  if (prompt.length < 1) throw new RnnError('TENSOR_INVALID', 'sample: the prompt must hold at least one token');
  for (let i = 0; i < prompt.length; i++) {
    if (!Number.isInteger(prompt[i]) || prompt[i] < 0 || prompt[i] >= V)
      throw new RnnError('TENSOR_INVALID', `sample: prompt[${i}] = ${describeValue(prompt[i])}: token ids must be in [0, ${V})`);
  }
  const r = { temperature: options.temperature ?? 1, topK: options.topK ?? 0, maxTokens: options.maxTokens ?? 100, seed: options.seed ?? 0 };
  if (!(r.temperature >= 0) || !Number.isFinite(r.temperature))
    throw new RnnError('OPTION_INVALID', `sample options.temperature: expected a number ≥ 0, got ${describeValue(options.temperature)}`);
  for (const k of ['topK', 'maxTokens', 'seed'] as const) {
    if (!Number.isSafeInteger(r[k]) || r[k] < (k === 'maxTokens' ? 1 : 0))
      throw new RnnError('OPTION_INVALID', `sample options.${k}: expected an integer ≥ ${k === 'maxTokens' ? 1 : 0}, got ${describeValue(options[k])}`);
  }
  return r;
}

/** The draw shaders/sample.wgsl makes, on the host: token index from logits. */
export function drawToken(logits: ArrayLike<number>, o: ResolvedSample, cursor: number): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  if (o.temperature === 0) return best;
  let threshold = -3e38;
  if (o.topK > 0 && o.topK < logits.length) {
    let above = 3e38;
    for (let k = 0; k < o.topK; k++) {
      let m = -3e38;
      for (let i = 0; i < logits.length; i++) if (logits[i] < above) m = Math.max(m, logits[i]);
      above = m;
    }
    threshold = above;
  }
  let total = 0;
  for (let i = 0; i < logits.length; i++) if (logits[i] >= threshold) total += Math.exp((logits[i] - logits[best]) / o.temperature);
  const u = uniform01(o.seed, cursor, 0) * total;
  let run = 0;
  for (let i = 0; i < logits.length; i++) {
    if (logits[i] < threshold) continue;
    run += Math.exp((logits[i] - logits[best]) / o.temperature);
    if (run > u) return i;
  }
  return best;
}

/** The CPU reference: float64 forward over the prompt, then one step per token. */
export function sampleReference(model: ModelConfig, params: Readonly<Record<string, Float64Array>>, prompt: ArrayLike<number>, o: ResolvedSample): number[] {
  const O = outputFeatures(model);
  let state: { h0?: Float64Array; c0?: Float64Array } = {};
  let input = Int32Array.from(prompt);
  const out: number[] = [];
  for (let k = 0; k < o.maxTokens; k++) {
    const T = input.length;
    const batch: PreparedBatch = { T, B: 1, tokens: input, target: new Int32Array(T), ...state };
    const cache = trainForward(model, params, batch, { training: false, seed: 0 });
    const next = drawToken(cache.y.subarray((T - 1) * O, T * O), o, prompt.length + k);
    out.push(next);
    state = { h0: cache.hN, c0: model.rnn.mode === 'LSTM' ? cache.cN : undefined };
    input = Int32Array.of(next);
  }
  return out;
}

/** The generation on the GPU, recorded into `rec`'s buffers: the commands and where the tokens end up. */
export function recordSampling(
  rec: Recorder,
  model: ModelConfig,
  layout: FlatLayout,
  params: GPUBuffer,
  P: number,
  o: ResolvedSample,
): { commands: Command[]; tokens: GPUBuffer } {
  const { ctx } = rec;
  const rnn = model.rnn;
  const E = model.embedding!.embedding_dim;
  const H = rnn.hidden_size;
  const Hout = outputSize(rnn);
  const F = rnnFeatures(model);
  const O = outputFeatures(model);
  const D = numDirections(rnn);
  const layerState = D * (Hout + (rnn.mode === 'LSTM' ? H : 0));
  const tensor = (name: string, n: number, shape: number[], dtype: 'f32' | 'u32' = 'f32') => gpuTensor(rec.storage(name, n), shape, dtype);
  const tokens = tensor('sample.tokens', 1 + P + o.maxTokens, [1 + P + o.maxTokens], 'u32');
  const flat = gpuTensor(params, [layout.size]);
  const layerParams = (l: number): LayerParams => {
    const s = layout.layers[l];
    return {
      params: { ...flat, offset: s.start, shape: [s.offsets.total * GATE_LANES] },
      offsets: s.offsets,
      inputSize: s.inputSize,
      wHr: s.wHr === undefined ? undefined : { ...flat, offset: s.wHr, shape: [rnn.proj_size * H] },
    };
  };
  const states = Array.from(
    { length: rnn.num_layers },
    (_, l) =>
      [tensor(`sample.layer${l}.state0`, layerState, [layerState]), tensor(`sample.layer${l}.state1`, layerState, [layerState])] as [GpuTensor, GpuTensor],
  );
  const gx = tensor('sample.gx', P * H * GATE_LANES, [P * H * GATE_LANES]);
  const hRaw = rnn.proj_size ? tensor('sample.hRaw', H, [H]) : undefined;
  const logits = tensor('sample.logits', O, [1, O]);
  const sampler = samplePipeline(ctx);
  const sampleGroup = ctx.bindGroup('sample', sampler.layout, [
    rec.uniform('sample.dims', packU32Struct(SAMPLE_DIMS_FIELDS, { O, top_k: o.topK, seed: o.seed, temperature: o.temperature })),
    tensorBinding(logits),
    tensorBinding(tokens),
  ]);
  /** The model over T positions whose embeddings are in `x`, from the state in slot 0; logits of the last position. */
  const run = (T: number, x: GpuTensor, tag: string): Command[] => {
    const commands: Command[] = [];
    const index = stepIndex(rec, T);
    const lengths = gpuTensor(rec.storage(`${tag}.lengths`, 1), [1], 'u32');
    ctx.device.queue.writeBuffer(lengths.buffer, 0, Uint32Array.of(T));
    let input = x;
    for (let l = 0; l < rnn.num_layers; l++) {
      const output = tensor(`${tag}.layer${l}.output`, T * F, [T, F]);
      commands.push(
        ...recordPerStepLayer(
          rec,
          { tag: `${tag}.layer${l}`, config: rnn, format: 'f32', T, B: 1, weights: layerParams(l), input, output, lengths, gx },
          index,
          states[l],
          hRaw,
        ),
      );
      if (T % 2 === 1) commands.push(copy(states[l][1].buffer, 0, states[l][0].buffer, 0, layerState * 4));
      input = output;
    }
    commands.push(
      recordGemm(rec, {
        label: `${tag}.head`,
        M: 1,
        N: O,
        K: F,
        batch: 1,
        transB: true,
        a: { ...input, offset: (T - 1) * F, shape: [1, F] },
        aBatchStride: 0,
        b: { ...flat, offset: layout.headWeight!, shape: [O, F] },
        bBatchStride: 0,
        bias: layout.headBias === undefined ? undefined : { ...flat, offset: layout.headBias, shape: [O] },
        biasBatchStride: 0,
        c: logits,
        cBatchStride: 0,
        format: 'f32',
      }),
    );
    commands.push(dispatch(`${tag}.sample`, sampler.pipeline, [sampleGroup], [1, 1, 1]));
    return commands;
  };
  const gather = embeddingPipeline(ctx, 'gather');
  const xPrompt = tensor('sample.xPrompt', P * E, [P, E]);
  const promptGroup = ctx.bindGroup('sample.gatherPrompt', gather.layout, [
    rec.uniform('sample.promptDims', packU32Struct(EMBEDDING_DIMS_FIELDS, { rows: P, E, table: layout.embedding!, first: 1 })),
    tensorBinding(tokens),
    tensorBinding(flat),
    tensorBinding(xPrompt),
  ]);
  const last = embeddingPipeline(ctx, 'gather_last');
  const xOne = tensor('sample.xOne', E, [1, E]);
  const lastGroup = ctx.bindGroup('sample.gatherLast', last.layout, [
    rec.uniform('sample.lastDims', packU32Struct(EMBEDDING_DIMS_FIELDS, { rows: 1, E, table: layout.embedding!, first: 0 })),
    tensorBinding(tokens),
    tensorBinding(flat),
    tensorBinding(xOne),
  ]);
  const commands: Command[] = [
    ...states.map(([s0]) => ({ kind: 'clear' as const, buffer: s0.buffer, offset: 0, bytes: layerState * 4 })),
    dispatch('sample.gatherPrompt', gather.pipeline, [promptGroup], linearGrid(P * E, ELEMENTWISE_WORKGROUP_SIZE, ctx.limits)),
    ...run(P, xPrompt, 'sample.prompt'),
  ];
  const perToken = [
    dispatch('sample.gatherLast', last.pipeline, [lastGroup], linearGrid(E, ELEMENTWISE_WORKGROUP_SIZE, ctx.limits)),
    ...run(1, xOne, 'sample.token'),
  ];
  for (let k = 1; k < o.maxTokens; k++) commands.push(...perToken);
  return { commands, tokens: tokens.buffer };
}
