/**
 * The forward-call contract shared by every backend: checks the caller's tensors against the
 * configuration (naming the tensor, expected vs actual shape) and brings them to the time-major
 * layout the backends compute in; then shapes the results back (batch_first, unbatched input).
 */
import { type RnnConfig, numDirections, outputSize } from './config.js';
import { RnnError, describeValue } from './errors.js';
import {
  type IntTensor,
  type Tensor,
  type TensorData,
  checkFloatData,
  checkFloatTensor,
  checkIntTensor,
  checkLength,
  checkTensorShape,
  expectShape,
  firstNonFinite,
  formatShape,
} from './tensor.js';

/** Optional inputs of a forward call, as in PyTorch's `module(input, hx)` plus packed-sequence lengths. */
export interface ForwardOptions {
  /** Initial hidden state [num_layers·D, B, H_out] ([num_layers·D, H_out] for unbatched input). Zeros when absent. */
  h0?: Tensor;
  /** LSTM initial cell state [num_layers·D, B, hidden_size]. Zeros when absent. */
  c0?: Tensor;
  /**
   * Per-sequence lengths [B], each in [1, T]: the batch behaves like PyTorch's
   * `pack_padded_sequence(input, lengths, enforce_sorted=False)`; outputs are zero past each length.
   */
  lengths?: IntTensor | Int32Array | readonly number[];
}

/** Results, as PyTorch returns them (output padded to the full T). */
export interface ForwardResult {
  /** [T, B, D·H_out], or [B, T, D·H_out] when batch_first, or [T, D·H_out] for unbatched input. */
  output: Tensor;
  /** [num_layers·D, B, H_out] (without B for unbatched input). */
  h_n: Tensor;
  /** LSTM only: [num_layers·D, B, hidden_size]. */
  c_n?: Tensor;
}

/** Inputs checked and brought to time-major layout. */
export interface PreparedInputs {
  readonly T: number;
  readonly B: number;
  /** The caller passed a 2-D input [T, I] (PyTorch's unbatched form). */
  readonly unbatched: boolean;
  /** (T, B, I), time-major. */
  readonly x: TensorData;
  /** (L·D, B, H_out) or undefined for zeros. */
  readonly h0?: TensorData;
  /** (L·D, B, H) or undefined for zeros. */
  readonly c0?: TensorData;
  /** (B) each in [1, T], or undefined when every sequence has length T. */
  readonly lengths?: Int32Array;
}

/** Upper bound on T·B·features for one call, so a bad shape cannot make us allocate without bound. */
export const MAX_ELEMENTS = 1 << 28;

/**
 * Checks an options object: a plain object (or undefined) with only `known` keys. `what` names the call
 * ("forward options"); the error lists the known keys, so a typo such as `hx` is caught, not ignored.
 */
export function checkOptions<T extends object>(what: string, options: unknown, known: readonly string[]): Partial<T> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options) || ArrayBuffer.isView(options)) {
    throw new RnnError('OPTION_INVALID', `${what}: expected an object, got ${describeValue(options)}`);
  }
  const unknown = Object.keys(options).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    throw new RnnError(
      'OPTION_INVALID',
      `${what}: unknown option(s) ${unknown
        .slice(0, 10)
        .map((k) => describeValue(k))
        .join(', ')}; known options are ${known.join(', ')}`,
    );
  }
  return options as Partial<T>;
}

const FORWARD_OPTIONS = ['h0', 'c0', 'lengths'] as const;

/** Rejects NaN / ±Inf in a caller's tensor (models created with `checkFinite: true`). */
export function rejectNonFinite(name: string, data: ArrayLike<number> | undefined): void {
  if (!data) return;
  const i = firstNonFinite(data);
  if (i >= 0) throw new RnnError('NON_FINITE', `${name}: element ${i} is ${data[i]} (checkFinite is on: inputs and weights must be finite)`);
}

/**
 * Checks a forward call's tensors against the configuration and returns them time-major. With
 * `shapeOnly`, `input` only gives the shape (its data is not read; x comes back empty): the training
 * path checks h0 / c0 / lengths this way for a model fed token ids.
 */
export function prepareInputs(config: RnnConfig, input: Tensor, options: ForwardOptions = {}, checkFinite = false, shapeOnly = false): PreparedInputs {
  const opts = checkOptions<ForwardOptions>('forward options', options, FORWARD_OPTIONS);
  // Shape and type first, the element cap next (a bad shape must not make us allocate), data length last.
  checkTensorShape('input', input);
  const data = checkFloatData('input', input);
  const I = config.input_size;
  const rank = input.shape.length;
  if (rank !== 2 && rank !== 3) {
    throw new RnnError(
      'TENSOR_INVALID',
      `input: expected a 3-D tensor ${config.batch_first ? '[B, T, input_size]' : '[T, B, input_size]'} or a 2-D unbatched [T, input_size], got shape ${formatShape(input.shape)}`,
    );
  }
  const unbatched = rank === 2;
  const [T, B] = unbatched ? [input.shape[0], 1] : config.batch_first ? [input.shape[1], input.shape[0]] : [input.shape[0], input.shape[1]];
  const featureDim = input.shape[rank - 1];
  if (featureDim !== I) {
    throw new RnnError('TENSOR_INVALID', `input: last dimension must be input_size=${I}, got shape ${formatShape(input.shape)}`);
  }
  if (T < 1 || B < 1) throw new RnnError('TENSOR_INVALID', `input: sequence length and batch must be at least 1, got shape ${formatShape(input.shape)}`);
  const widest = Math.max(I, numDirections(config) * outputSize(config), config.hidden_size * 4);
  if (T * B * widest > MAX_ELEMENTS) {
    throw new RnnError(
      'LIMIT_EXCEEDED',
      `input: shape ${formatShape(input.shape)} is too large (T·B·features = ${T * B * widest}, above ${MAX_ELEMENTS}); split the batch or the sequence`,
    );
  }
  if (!shapeOnly) checkLength('input', input.shape, data.length);
  const x = shapeOnly ? data : config.batch_first && !unbatched ? swapLeadingAxes(data, B, T, I) : data;
  const LD = config.num_layers * numDirections(config);
  const stateShape = (width: number) => (unbatched ? [LD, width] : [LD, B, width]);
  let h0: TensorData | undefined;
  let c0: TensorData | undefined;
  if (opts.h0 !== undefined) {
    checkFloatTensor('h0', opts.h0);
    expectShape('h0', opts.h0.shape, stateShape(outputSize(config)));
    h0 = opts.h0.data;
  }
  if (opts.c0 !== undefined) {
    if (config.mode !== 'LSTM') throw new RnnError('TENSOR_INVALID', `c0: only LSTM has a cell state (mode is ${config.mode})`);
    checkFloatTensor('c0', opts.c0);
    expectShape('c0', opts.c0.shape, stateShape(config.hidden_size));
    c0 = opts.c0.data;
  }
  const lengths = opts.lengths === undefined ? undefined : checkLengths(opts.lengths, T, B);
  if (checkFinite) {
    rejectNonFinite('input', input.data);
    rejectNonFinite('h0', h0);
    rejectNonFinite('c0', c0);
  }
  return { T, B, unbatched, x, h0, c0, lengths };
}

function checkLengths(raw: unknown, T: number, B: number): Int32Array {
  let values: ArrayLike<number | bigint>;
  if (raw instanceof Int32Array || Array.isArray(raw)) {
    values = raw as ArrayLike<number>;
  } else if (raw !== null && typeof raw === 'object' && !ArrayBuffer.isView(raw) && 'data' in raw) {
    const t = checkIntTensor('lengths', raw);
    expectShape('lengths', t.shape, [B]);
    values = t.data;
  } else {
    throw new RnnError(
      'TENSOR_INVALID',
      `lengths: expected an array of integers, an Int32Array or an integer tensor { shape: [B], data: Int32Array | BigInt64Array }, got ${describeValue(raw)}`,
    );
  }
  if (values.length !== B) throw new RnnError('TENSOR_INVALID', `lengths: expected ${B} entries (one per batch row), got ${values.length}`);
  const out = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const v = typeof values[b] === 'bigint' || typeof values[b] === 'number' ? Number(values[b]) : Number.NaN;
    if (!Number.isInteger(v) || v < 1 || v > T) {
      throw new RnnError('TENSOR_INVALID', `lengths[${b}] = ${describeValue(values[b])}: each length must be an integer in [1, T=${T}]`);
    }
    out[b] = v;
  }
  return out;
}

/** (P, Q, F) → (Q, P, F): converts between batch-first and time-major. */
export function swapLeadingAxes<A extends TensorData>(data: A, P: number, Q: number, F: number): A {
  const out = new (data.constructor as { new (n: number): A })(data.length);
  for (let p = 0; p < P; p++) {
    for (let q = 0; q < Q; q++) {
      out.set(data.subarray((p * Q + q) * F, (p * Q + q + 1) * F), (q * P + p) * F);
    }
  }
  return out;
}

/** Shapes a time-major output (T, B, D·H_out) as the caller's input was shaped (batch_first, unbatched). */
export function formatOutput(config: RnnConfig, prepared: PreparedInputs, output: TensorData): Tensor {
  const { T, B, unbatched } = prepared;
  const F = numDirections(config) * outputSize(config);
  if (unbatched) return { shape: [T, F], data: output };
  if (config.batch_first) return { shape: [B, T, F], data: swapLeadingAxes(output, T, B, F) };
  return { shape: [T, B, F], data: output };
}

/** Shapes final states h_n (L·D, B, H_out) and c_n (L·D, B, H) (without B for unbatched input). */
export function formatState(
  config: RnnConfig,
  prepared: Pick<PreparedInputs, 'B' | 'unbatched'>,
  hN: TensorData,
  cN: TensorData | undefined,
): Pick<ForwardResult, 'h_n' | 'c_n'> {
  const LD = config.num_layers * numDirections(config);
  const state = (data: TensorData, width: number): Tensor => ({
    shape: prepared.unbatched ? [LD, width] : [LD, prepared.B, width],
    data,
  });
  const result: Pick<ForwardResult, 'h_n' | 'c_n'> = { h_n: state(hN, outputSize(config)) };
  if (config.mode === 'LSTM') {
    result.c_n = state(cN ?? new Float32Array(LD * prepared.B * config.hidden_size), config.hidden_size);
  }
  return result;
}

const STREAM_OPTIONS = ['batch', 'h0', 'c0'] as const;
const STATE_OPTIONS = ['h0', 'c0'] as const;
const PUSH_OPTIONS = ['lengths', 'read'] as const;

/** Checks stream() options: the batch, and the initial state as in reset(). */
export function prepareStreamOptions(config: RnnConfig, options: unknown, checkFinite = false): { batch: number; h0?: TensorData; c0?: TensorData } {
  const opts = checkOptions<{ batch: number; h0: Tensor; c0: Tensor }>('stream options', options, STREAM_OPTIONS);
  if (config.bidirectional) {
    throw new RnnError('OPTION_INVALID', 'stream: a bidirectional model needs the whole sequence (its reverse direction starts at the end); use forward()');
  }
  const batch = opts.batch ?? 1;
  if (!Number.isSafeInteger(batch) || batch < 1)
    throw new RnnError('OPTION_INVALID', `stream options.batch: expected a positive integer, got ${describeValue(batch)}`);
  return { batch, ...prepareStreamState(config, batch, { h0: opts.h0, c0: opts.c0 }, checkFinite) };
}

/** Checks a stream's initial state (reset() or stream options); returns h0 / c0 data (undefined for zeros). */
export function prepareStreamState(config: RnnConfig, batch: number, state: unknown, checkFinite = false): { h0?: TensorData; c0?: TensorData } {
  const opts = checkOptions<{ h0: Tensor; c0: Tensor }>('stream state', state, STATE_OPTIONS);
  const L = config.num_layers;
  if (opts.h0 !== undefined) {
    checkFloatTensor('h0', opts.h0);
    expectShape('h0', opts.h0.shape, [L, batch, outputSize(config)]);
  }
  if (opts.c0 !== undefined) {
    if (config.mode !== 'LSTM') throw new RnnError('TENSOR_INVALID', `c0: only LSTM has a cell state (mode is ${config.mode})`);
    checkFloatTensor('c0', opts.c0);
    expectShape('c0', opts.c0.shape, [L, batch, config.hidden_size]);
  }
  if (checkFinite) {
    rejectNonFinite('h0', opts.h0?.data);
    rejectNonFinite('c0', opts.c0?.data);
  }
  return { h0: opts.h0?.data, c0: opts.c0?.data };
}

/** Options of a stream push. */
export interface PushOptions {
  lengths?: ForwardOptions['lengths'];
  read?: boolean;
}

/** Checks a stream chunk and its options, and brings the chunk to time-major layout. */
export function prepareChunk(config: RnnConfig, batch: number, chunk: Tensor, options: unknown, checkFinite = false): PreparedInputs & { read: boolean } {
  const opts = checkOptions<PushOptions>('push options', options, PUSH_OPTIONS);
  if (opts.read !== undefined && typeof opts.read !== 'boolean') {
    throw new RnnError('OPTION_INVALID', `push options.read: expected true or false, got ${describeValue(opts.read)}`);
  }
  const prepared = prepareInputs(config, chunk, { lengths: opts.lengths }, checkFinite);
  if (prepared.B !== batch) {
    throw new RnnError('TENSOR_INVALID', `stream chunk: expected batch ${batch} (the stream's), got shape ${formatShape(chunk.shape)}`);
  }
  return { ...prepared, read: opts.read !== false };
}
