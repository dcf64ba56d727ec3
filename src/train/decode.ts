/**
 * Decoding an encoder–decoder: greedy (beam 1) and beam search, from `bos`, at most `maxLength` tokens.
 *
 * Beam search, per source row: every live hypothesis is extended by every token, scored by its summed
 * log-probability; the best K candidates are kept (ordered by score, ties to the earlier hypothesis,
 * then the lower token id); those ending in `eos` are finished, the others are the next step's live
 * hypotheses (K or fewer). It stops when none is live, K are finished, or `maxLength` tokens have been
 * made; the answer is the best-scoring of the finished and the still-live ones (no length penalty;
 * ties to the finished, in the order they finished, then the live in beam order). At the first step
 * only one hypothesis is live (the K start alike). Greedy decoding is beam search with K = 1.
 *
 * Both backends fill one `BeamRecord` — each step's chosen tokens and their parents, the attention of
 * every hypothesis, the finished list and the last live scores — and `assembleDecode` follows the
 * parents back to the answers. The CPU's selection (here, float64, the model's reference forward run
 * over each hypothesis's prefix) is the reference of the GPU's (shaders/beam.wgsl).
 */
import { RnnError, describeValue } from '../errors.js';
import type { IntTensor, Tensor } from '../tensor.js';
import { checkOptions } from '../inputs.js';
import { type PreparedBatch, type TrainBatch, prepareBatch } from './batch.js';
import type { TrainModel } from './model.js';
import { type Params, modelForward } from './reference-model.js';
import type { AttentionCache } from './layers/attention/index.js';
import type { Seq2SeqConfig } from './seq2seq-config.js';

/** The widest beam: the GPU's selection keeps the K candidates of a row in one workgroup. */
export const MAX_BEAM = 16;

export interface DecodeOptions {
  /** The target vocabulary's start and end tokens. */
  bos: number;
  eos: number;
  /** At most this many tokens per row (eos included). */
  maxLength: number;
  /** Hypotheses kept per row: 1 (default) decodes greedily. */
  beam?: number;
  /** [B] each in [1, S]; S where absent. */
  sourceLengths?: TrainBatch['source_lengths'];
}

export interface ResolvedDecode {
  readonly bos: number;
  readonly eos: number;
  readonly maxLength: number;
  readonly beam: number;
}

export interface DecodeResult {
  /** [B, maxLength] I32: each row's answer, eos after its end. */
  tokens: { shape: number[]; data: Int32Array };
  /** [B]: tokens up to and including eos (maxLength where none came). */
  lengths: Int32Array;
  /** [B]: the answer's summed log-probability. */
  score: Float64Array;
  /** [B, maxLength, S]: α of each answer token over the source (zeros past the row's length, and past the source row's length). */
  attention: Tensor;
}

const DECODE_KEYS = ['bos', 'eos', 'maxLength', 'beam', 'sourceLengths'] as const;

function integerIn(what: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < lo || v > hi) {
    throw new RnnError('OPTION_INVALID', `decode options.${what}: expected an integer in [${lo}, ${hi}], got ${describeValue(v)}`);
  }
  return v;
}

export function resolveDecode(config: Seq2SeqConfig, options: DecodeOptions): ResolvedDecode {
  const o = checkOptions<DecodeOptions>('decode options', options, DECODE_KEYS);
  const V = config.target_embedding.num_embeddings;
  for (const key of ['bos', 'eos', 'maxLength'] as const) if (o[key] === undefined) throw new RnnError('OPTION_INVALID', `decode options.${key}: missing`);
  return {
    bos: integerIn('bos', o.bos, 0, V - 1),
    eos: integerIn('eos', o.eos, 0, V - 1),
    maxLength: integerIn('maxLength', o.maxLength, 1, 4096),
    beam: o.beam === undefined ? 1 : integerIn('beam', o.beam, 1, MAX_BEAM),
  };
}

/**
 * The source [S, B] and its lengths checked as a batch's are (errors name `source` and
 * `options.sourceLengths`), each row repeated for the K hypotheses: row b·K + k.
 */
export function prepareDecodeSource(
  model: TrainModel,
  source: unknown,
  sourceLengths: DecodeOptions['sourceLengths'],
  K: number,
): PreparedBatch & { rows: number } {
  const config = model.config as Seq2SeqConfig;
  let prepared: PreparedBatch;
  try {
    const B = (source as Tensor | undefined)?.shape?.[1] ?? 1;
    prepared = prepareBatch(config, {
      source: source as IntTensor,
      ...(sourceLengths === undefined ? {} : { source_lengths: sourceLengths }),
      target_in: { shape: [1, B], data: new Int32Array(B) },
      target: { shape: [1, B], data: new Int32Array(B) },
    });
  } catch (e) {
    if (!(e instanceof RnnError)) throw e;
    throw new RnnError(e.code, e.message.replace(/^batch\.source_lengths/, 'decode options.sourceLengths').replace(/^batch\.source/, 'decode source'), {
      cause: e,
    });
  }
  const { S, B } = prepared as Required<PreparedBatch>;
  const BK = B * K;
  const src = new Int32Array(S * BK);
  for (let s = 0; s < S; s++) for (let b = 0; b < B; b++) for (let k = 0; k < K; k++) src[s * BK + b * K + k] = prepared.source![s * B + b];
  const lengths = prepared.sourceLengths && Int32Array.from({ length: BK }, (_, r) => prepared.sourceLengths![Math.floor(r / K)]);
  return { T: 1, B: BK, S, rows: B, source: src, sourceLengths: lengths, tokens: new Int32Array(BK), target: new Int32Array(BK) };
}

/** What a decode leaves for assembleDecode, hypotheses as slots r = b·K + k. */
export interface BeamRecord {
  readonly B: number;
  readonly K: number;
  readonly S: number;
  /** (maxLength, B·K): the token each slot took at step t, and the slot (k) of its parent at t − 1. */
  readonly tokens: Int32Array;
  readonly parents: Int32Array;
  /** (maxLength, B·K, S): α of each slot's query at step t (before the step's selection). */
  readonly alpha: ArrayLike<number>;
  /** Per row, in the order they finished: summed log-probability, the step of their eos, the parent slot. */
  readonly finished: ReadonlyArray<ReadonlyArray<{ score: number; t: number; parent: number }>>;
  /** Per row, the step its search stopped at, and the live slots' scores then (−∞: none). */
  readonly stopped: Int32Array;
  readonly liveScores: ArrayLike<number>;
}

/** The answer of every row, followed back through the parents. */
export function assembleDecode(record: BeamRecord, o: ResolvedDecode, sourceLengths?: Int32Array): DecodeResult {
  const { B, K, S } = record;
  const L = o.maxLength;
  const BK = B * K;
  const tokens = new Int32Array(B * L).fill(o.eos);
  const lengths = new Int32Array(B);
  const score = new Float64Array(B);
  const attention = new Float64Array(B * L * S);
  for (let b = 0; b < B; b++) {
    // The best of the finished (in finishing order), then of the live at the last step.
    let best: { score: number; t: number; parent: number; token?: number; slot?: number } | undefined;
    for (const f of record.finished[b]) if (!best || f.score > best.score) best = f;
    const last = record.stopped[b];
    for (let k = 0; k < K; k++) {
      const s = record.liveScores[b * K + k];
      if (s > Number.NEGATIVE_INFINITY && (!best || s > best.score)) best = { score: s, t: last, parent: record.parents[last * BK + b * K + k], slot: k };
    }
    if (!best) throw new Error(`decode: row ${b} ended with no hypothesis`);
    score[b] = best.score;
    lengths[b] = best.t + 1;
    // Step t's token: eos for a finished answer, the slot's own for a live one; then back through the parents.
    let token = best.slot === undefined ? o.eos : record.tokens[best.t * BK + b * K + best.slot];
    let parent = best.parent;
    for (let t = best.t; t >= 0; t--) {
      tokens[b * L + t] = token;
      attention.set(Array.prototype.slice.call(record.alpha, (t * BK + b * K + parent) * S, (t * BK + b * K + parent + 1) * S), (b * L + t) * S);
      if (t > 0) {
        token = record.tokens[(t - 1) * BK + b * K + parent];
        parent = record.parents[(t - 1) * BK + b * K + parent];
      }
    }
    if (sourceLengths) for (let t = 0; t < L; t++) attention.fill(0, (b * L + t) * S + sourceLengths[b * K], (b * L + t + 1) * S);
  }
  return { tokens: { shape: [B, L], data: tokens }, lengths, score, attention: { shape: [B, L, S], data: attention } };
}

/**
 * One step of the selection for row b (the reference of shaders/beam.wgsl's `beam_select`): from the live
 * slots' scores and the step's logits (B·K, V), the best K candidates; writes step t of `record`
 * and the next scores, and says whether the row's search stops here.
 */
export function selectStep(
  b: number,
  t: number,
  K: number,
  V: number,
  logits: ArrayLike<number>,
  scores: Float64Array,
  o: ResolvedDecode,
  record: { tokens: Int32Array; parents: Int32Array; finished: Array<{ score: number; t: number; parent: number }> },
): boolean {
  const first = b * K;
  const candidates: Array<{ s: number; k: number; v: number }> = [];
  for (let k = 0; k < K; k++) {
    const base = scores[first + k];
    if (base === Number.NEGATIVE_INFINITY) continue;
    const row = (first + k) * V;
    let max = Number.NEGATIVE_INFINITY;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[row + v]);
    let z = 0;
    for (let v = 0; v < V; v++) z += Math.exp(logits[row + v] - max);
    const lse = max + Math.log(z);
    for (let v = 0; v < V; v++) candidates.push({ s: base + logits[row + v] - lse, k, v });
  }
  // Score first; ties to the earlier hypothesis, then the lower token.
  candidates.sort((x, y) => y.s - x.s || x.k - y.k || x.v - y.v);
  const at = t * (record.tokens.length / o.maxLength) + first;
  let live = 0;
  for (const c of candidates.slice(0, K)) {
    if (c.v === o.eos) {
      record.finished.push({ score: c.s, t, parent: c.k });
    } else {
      record.tokens[at + live] = c.v;
      record.parents[at + live] = c.k;
      scores[first + live] = c.s;
      live++;
    }
  }
  // The slots left over are dead: eos, their own parent, no score.
  for (let j = live; j < K; j++) {
    record.tokens[at + j] = o.eos;
    record.parents[at + j] = j;
    scores[first + j] = Number.NEGATIVE_INFINITY;
  }
  return live === 0 || record.finished.length >= K || t + 1 >= o.maxLength;
}

/**
 * The float64 reference: at each step the model's reference forward over every live hypothesis's
 * prefix (bos and its tokens so far, teacher-forced: the same numbers as a recurrence carried step by
 * step, since every layer is causal in the target), the last position's logits and α, then the selection.
 */
export function decodeReference(model: TrainModel, params: Params, source: PreparedBatch & { rows: number }, o: ResolvedDecode): BeamRecord {
  const B = source.rows;
  const K = o.beam;
  const BK = B * K;
  const S = source.S!;
  const L = o.maxLength;
  const V = (model.config as Seq2SeqConfig).target_embedding.num_embeddings;
  const record = {
    tokens: new Int32Array(L * BK).fill(o.eos),
    parents: new Int32Array(L * BK),
    alpha: new Float64Array(L * BK * S),
  };
  const finished = Array.from({ length: B }, () => [] as Array<{ score: number; t: number; parent: number }>);
  const stopped = new Int32Array(B).fill(-1);
  // One live hypothesis per row at first (the K would start alike).
  const scores = Float64Array.from({ length: BK }, (_, r) => (r % K === 0 ? 0 : Number.NEGATIVE_INFINITY));
  let prefixes = Array.from({ length: BK }, () => [o.bos]);
  const attentionLayer = model.layers.findIndex((l) => l.name === 'attention' || l.name === 'decoder');
  for (let t = 0; t < L && stopped.some((s) => s < 0); t++) {
    const T = t + 1;
    const tokens = new Int32Array(T * BK);
    for (let u = 0; u < T; u++) for (let r = 0; r < BK; r++) tokens[u * BK + r] = prefixes[r][u];
    const f = modelForward(model, params, { ...source, T, B: BK, tokens, target: new Int32Array(T * BK) }, { training: false, seed: 0 });
    const logits = f.y.subarray(t * BK * V, T * BK * V);
    const cacheAlpha = (f.caches.find((c, i) => i >= attentionLayer && c && typeof c === 'object' && 'alpha' in c) as AttentionCache).alpha;
    for (let b = 0; b < B; b++) {
      if (stopped[b] >= 0) continue;
      record.alpha.set(cacheAlpha.subarray((t * BK + b * K) * S, (t * BK + (b + 1) * K) * S), (t * BK + b * K) * S);
      if (selectStep(b, t, K, V, logits, scores, o, { ...record, finished: finished[b] })) stopped[b] = t;
    }
    const at = t * BK;
    prefixes = prefixes.map((_, r) => [...prefixes[Math.floor(r / K) * K + record.parents[at + r]], record.tokens[at + r]]);
  }
  return { B, K, S, ...record, finished, stopped, liveScores: scores };
}
