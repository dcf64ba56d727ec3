/**
 * A training batch, checked against the model and brought to time-major layout:
 *   input   float [T, B, I] ([B, T, I] with batch_first) — models without an embedding;
 *   tokens  I32 / I64 [T, B] ([B, T]) — models with one; each id in [0, num_embeddings);
 *   target  for a loss of classes (cross_entropy) shaped like the model's output without its last
 *           dimension (class ids, I32 / I64, −100 ignored as PyTorch's ignore_index); for a loss of
 *           values (mse) like the output itself (losses/);
 *           the output is [T, B, O] ([B, T, O]) with the head on every step or without a head, [B, O]
 *           with the head on h_n;
 *   lengths, h0, c0 as in a forward call.
 * An encoder–decoder's batch (seq2seq-config.ts) is instead
 *   source          I32 / I64 [S, B], ids in [0, source vocabulary);
 *   source_lengths  optional [B], each in [1, S] (the encoder reads each row that far; S without);
 *   target_in       I32 / I64 [T, B], the decoder's inputs (teacher forcing), ids in [0, target vocabulary);
 *   target          I32 / I64 [T, B], the next ids, or −100 where nothing is to be predicted (padding).
 */
import { RnnError, describeValue } from '../errors.js';
import { type ForwardOptions, checkOptions, prepareInputs, rejectNonFinite, swapLeadingAxes } from '../inputs.js';
import { type IntTensor, type Tensor, type TensorData, checkFloatTensor, checkIntTensor, expectShape, formatShape } from '../tensor.js';
import { type ModelConfig, type TrainableConfig, outputFeatures } from './config.js';
import { type Seq2SeqConfig, isSeq2Seq } from './seq2seq-config.js';
import { IGNORE_INDEX, LOSSES } from './losses/index.js';

export interface TrainBatch {
  input?: Tensor;
  tokens?: IntTensor;
  target: Tensor | IntTensor;
  lengths?: ForwardOptions['lengths'];
  h0?: Tensor;
  c0?: Tensor;
  /** An encoder–decoder's: the source ids [S, B], their lengths [B], the decoder's inputs [T, B]. */
  source?: IntTensor;
  source_lengths?: ForwardOptions['lengths'];
  target_in?: IntTensor;
}

export interface PreparedBatch {
  readonly T: number;
  readonly B: number;
  /** (T, B, I) time-major float input, when the model has no embedding. */
  readonly x?: TensorData;
  /** (T, B) time-major token ids, when it has one. */
  readonly tokens?: Int32Array;
  /** Time-major: (T, B) / (T, B, O) for per-step outputs, (B) / (B, O) for the head on h_n. Class ids for cross_entropy. */
  readonly target: Float64Array | Int32Array;
  readonly lengths?: Int32Array;
  readonly h0?: TensorData;
  readonly c0?: TensorData;
  /** An encoder–decoder's batch: the source ids (S, B), its length S and each row's length (B; S where absent); `tokens` holds target_in (T, B). */
  readonly source?: Int32Array;
  readonly S?: number;
  readonly sourceLengths?: Int32Array;
}

const BATCH_KEYS = ['input', 'tokens', 'target', 'lengths', 'h0', 'c0'] as const;

function toInt32(name: string, t: IntTensor): Int32Array {
  const out = new Int32Array(t.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = Number(t.data[i]);
    if (!Number.isSafeInteger(v) || v < -(2 ** 31) || v >= 2 ** 31)
      throw new RnnError('TENSOR_INVALID', `${name}[${i}] = ${describeValue(t.data[i])}: not a 32-bit integer`);
    out[i] = v;
  }
  return out;
}

/**
 * Checks a batch against the model; returns it time-major. With `checkFinite`, NaN or ±Inf in the
 * input, h0, c0 or a float target is an error (NON_FINITE) naming the tensor and the element.
 */
export function prepareBatch(config: TrainableConfig, batch: TrainBatch, checkFinite = false): PreparedBatch {
  if (isSeq2Seq(config)) return prepareSeq2SeqBatch(config, batch);
  const model = config;
  const b = checkOptions<TrainBatch>('batch', batch, BATCH_KEYS);
  if (batch === undefined) throw new RnnError('TENSOR_INVALID', 'batch: missing');
  const rnn = model.rnn;
  let T: number;
  let B: number;
  let x: TensorData | undefined;
  let tokens: Int32Array | undefined;
  if (model.embedding) {
    if (b.input !== undefined) throw new RnnError('TENSOR_INVALID', 'batch.input: this model takes token ids (batch.tokens), it has an embedding');
    if (b.tokens === undefined) throw new RnnError('TENSOR_INVALID', 'batch.tokens: missing (I32 or I64 token ids, [T, B] or [B, T] with batch_first)');
    const t = checkIntTensor('batch.tokens', b.tokens);
    if (t.shape.length !== 2)
      throw new RnnError('TENSOR_INVALID', `batch.tokens: expected ${rnn.batch_first ? '[B, T]' : '[T, B]'}, got shape ${formatShape(t.shape)}`);
    [T, B] = rnn.batch_first ? [t.shape[1], t.shape[0]] : [t.shape[0], t.shape[1]];
    const ids = toInt32('batch.tokens', t);
    const V = model.embedding.num_embeddings;
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] < 0 || ids[i] >= V) throw new RnnError('TENSOR_INVALID', `batch.tokens[${i}] = ${ids[i]}: token ids must be in [0, num_embeddings=${V})`);
    }
    tokens = rnn.batch_first ? swapInt(ids, B, T) : ids;
    if (T < 1 || B < 1) throw new RnnError('TENSOR_INVALID', `batch.tokens: sequence length and batch must be at least 1, got shape ${formatShape(t.shape)}`);
  } else {
    if (b.tokens !== undefined) throw new RnnError('TENSOR_INVALID', 'batch.tokens: this model has no embedding; pass float features as batch.input');
    if (b.input === undefined) throw new RnnError('TENSOR_INVALID', 'batch.input: missing (float [T, B, input_size], [B, T, input_size] with batch_first)');
    checkFloatTensor('batch.input', b.input);
    if (b.input.shape.length !== 3) throw new RnnError('TENSOR_INVALID', `batch.input: expected a 3-D tensor, got shape ${formatShape(b.input.shape)}`);
  }
  // The recurrent inputs' checks (h0, c0, lengths, shapes) are the forward call's.
  const probe = prepareInputs(
    rnn,
    tokens ? ({ shape: rnn.batch_first ? [B!, T!, rnn.input_size] : [T!, B!, rnn.input_size], data: new Float32Array(0) } as Tensor) : b.input!,
    {
      h0: b.h0,
      c0: b.c0,
      lengths: b.lengths,
    },
    false,
    !!tokens,
  );
  T = probe.T;
  B = probe.B;
  if (!tokens) x = probe.x;
  const target = prepareTarget(model, b.target, T, B);
  if (checkFinite) {
    // In the caller's layout, so the element named is the caller's.
    rejectNonFinite('batch.input', b.input?.data);
    rejectNonFinite('batch.h0', b.h0?.data);
    rejectNonFinite('batch.c0', b.c0?.data);
    if (LOSSES[model.loss].targets === 'values') rejectNonFinite('batch.target', (b.target as Tensor).data);
  }
  return { T, B, x, tokens, target, lengths: probe.lengths, h0: probe.h0, c0: probe.c0 };
}

function swapInt(ids: Int32Array, P: number, Q: number): Int32Array {
  const out = new Int32Array(ids.length);
  for (let p = 0; p < P; p++) for (let q = 0; q < Q; q++) out[q * P + p] = ids[p * Q + q];
  return out;
}

function prepareTarget(model: ModelConfig, target: unknown, T: number, B: number): Float64Array | Int32Array {
  const O = outputFeatures(model);
  const perStep = !model.head || model.head.on === 'output';
  const bf = model.rnn.batch_first;
  const lead = perStep ? (bf ? [B, T] : [T, B]) : [B];
  const classes = LOSSES[model.loss].targets === 'classes';
  if (target === undefined)
    throw new RnnError(
      'TENSOR_INVALID',
      `batch.target: missing (expected ${classes ? `class ids ${formatShape(lead)}` : `floats ${formatShape([...lead, O])}`})`,
    );
  if (classes) {
    const t = checkIntTensor('batch.target', target);
    expectShape('batch.target', t.shape, lead);
    const ids = toInt32('batch.target', t);
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] !== IGNORE_INDEX && (ids[i] < 0 || ids[i] >= O))
        throw new RnnError('TENSOR_INVALID', `batch.target[${i}] = ${ids[i]}: class ids must be in [0, ${O}) or ${IGNORE_INDEX} (ignored)`);
    }
    return perStep && bf ? swapInt(ids, B, T) : ids;
  }
  const t = checkFloatTensor('batch.target', target);
  expectShape('batch.target', t.shape, [...lead, O]);
  const data = Float64Array.from(t.data);
  return perStep && bf ? swapLeadingAxes(data, B, T, O) : data;
}

const SEQ2SEQ_KEYS = ['source', 'source_lengths', 'target_in', 'target'] as const;

/** Ids of a [L, B] tensor, each in [0, V): time-major as given. */
function idsOf(name: string, value: unknown, V: number, what: string): { ids: Int32Array; L: number; B: number } {
  if (value === undefined) throw new RnnError('TENSOR_INVALID', `batch.${name}: missing (I32 or I64 ids, ${what})`);
  const t = checkIntTensor(`batch.${name}`, value);
  if (t.shape.length !== 2 || t.shape[0] < 1 || t.shape[1] < 1)
    throw new RnnError('TENSOR_INVALID', `batch.${name}: expected ${what}, got shape ${formatShape(t.shape)}`);
  const ids = toInt32(`batch.${name}`, t);
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] < 0 || ids[i] >= V) throw new RnnError('TENSOR_INVALID', `batch.${name}[${i}] = ${ids[i]}: ids must be in [0, ${V})`);
  }
  return { ids, L: t.shape[0], B: t.shape[1] };
}

/** An encoder–decoder's batch, checked: shapes that agree, ids in their vocabularies, lengths in [1, S]. */
function prepareSeq2SeqBatch(config: Seq2SeqConfig, batch: TrainBatch): PreparedBatch {
  const b = checkOptions<TrainBatch>('batch', batch, SEQ2SEQ_KEYS);
  if (batch === undefined) throw new RnnError('TENSOR_INVALID', 'batch: missing');
  const source = idsOf('source', b.source, config.source_embedding.num_embeddings, '[S, B]');
  const targetIn = idsOf('target_in', b.target_in, config.target_embedding.num_embeddings, '[T, B]');
  if (targetIn.B !== source.B)
    throw new RnnError('TENSOR_INVALID', `batch.target_in: expected ${source.B} rows as batch.source has, got shape [${targetIn.L}, ${targetIn.B}]`);
  const [S, B, T] = [source.L, source.B, targetIn.L];
  let sourceLengths: Int32Array | undefined;
  if (b.source_lengths !== undefined) {
    // The forward call's checks of lengths, on the source's [S, B].
    try {
      const probe = prepareInputs(
        config.encoder,
        { shape: [S, B, config.encoder.input_size], data: new Float32Array(0) },
        { lengths: b.source_lengths },
        false,
        true,
      );
      sourceLengths = probe.lengths;
    } catch (e) {
      throw e instanceof RnnError ? new RnnError(e.code, `batch.source_${e.message.replace(/T=/, 'S=')}`, { cause: e }) : e;
    }
  }
  if (b.target === undefined) throw new RnnError('TENSOR_INVALID', `batch.target: missing (class ids [${T}, ${B}], −100 where nothing is predicted)`);
  const t = checkIntTensor('batch.target', b.target);
  expectShape('batch.target', t.shape, [T, B]);
  const target = toInt32('batch.target', t);
  const V = config.target_embedding.num_embeddings;
  for (let i = 0; i < target.length; i++) {
    if (target[i] !== IGNORE_INDEX && (target[i] < 0 || target[i] >= V)) {
      throw new RnnError('TENSOR_INVALID', `batch.target[${i}] = ${target[i]}: class ids must be in [0, ${V}) or ${IGNORE_INDEX} (ignored)`);
    }
  }
  return { T, B, tokens: targetIn.ids, target, source: source.ids, S, sourceLengths };
}
