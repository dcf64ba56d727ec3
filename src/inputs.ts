/**
 * The forward-call contract shared by every backend: checks the caller's tensors against the
 * configuration (naming the tensor, expected vs actual shape) and brings them to the time-major
 * layout the backends compute in; then shapes the results back (batch_first, unbatched input).
 */
import { type RnnConfig, numDirections, outputSize } from './config.js';
import { type IntTensor, type Tensor, type TensorData, expectShape, formatShape } from './tensor.js';

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

/** Checks a forward call's tensors against the configuration and returns them time-major. */
export function prepareInputs(config: RnnConfig, input: Tensor, options: ForwardOptions = {}): PreparedInputs {
  const I = config.input_size;
  const rank = input.shape.length;
  if (rank !== 2 && rank !== 3) {
    throw new RangeError(`input: expected a 3-D tensor ${config.batch_first ? '[B, T, input_size]' : '[T, B, input_size]'} or a 2-D unbatched [T, input_size], got shape ${formatShape(input.shape)}`);
  }
  const unbatched = rank === 2;
  const [T, B] = unbatched ? [input.shape[0], 1] : config.batch_first ? [input.shape[1], input.shape[0]] : [input.shape[0], input.shape[1]];
  const featureDim = input.shape[rank - 1];
  if (featureDim !== I) {
    throw new RangeError(`input: last dimension must be input_size=${I}, got shape ${formatShape(input.shape)}`);
  }
  if (T < 1 || B < 1) throw new RangeError(`input: sequence length and batch must be at least 1, got shape ${formatShape(input.shape)}`);
  if (input.data.length !== T * B * I) {
    throw new RangeError(`input: data holds ${input.data.length} elements, shape ${formatShape(input.shape)} needs ${T * B * I}`);
  }
  const widest = Math.max(I, numDirections(config) * outputSize(config), config.hidden_size * 4);
  if (T * B * widest > MAX_ELEMENTS) {
    throw new RangeError(`input: shape ${formatShape(input.shape)} is too large (T·B·features above ${MAX_ELEMENTS})`);
  }
  const x = config.batch_first && !unbatched ? swapLeadingAxes(input.data, B, T, I) : input.data;
  const LD = config.num_layers * numDirections(config);
  const stateShape = (width: number) => (unbatched ? [LD, width] : [LD, B, width]);
  let h0: TensorData | undefined;
  let c0: TensorData | undefined;
  if (options.h0 !== undefined) {
    expectShape('h0', options.h0.shape, stateShape(outputSize(config)));
    h0 = options.h0.data;
  }
  if (options.c0 !== undefined) {
    if (config.mode !== 'LSTM') throw new RangeError(`c0: only LSTM has a cell state (mode is ${config.mode})`);
    expectShape('c0', options.c0.shape, stateShape(config.hidden_size));
    c0 = options.c0.data;
  }
  const lengths = options.lengths === undefined ? undefined : checkLengths(options.lengths, T, B);
  return { T, B, unbatched, x, h0, c0, lengths };
}

function checkLengths(raw: NonNullable<ForwardOptions['lengths']>, T: number, B: number): Int32Array {
  let values: ArrayLike<number | bigint>;
  if (raw instanceof Int32Array || Array.isArray(raw)) {
    values = raw as ArrayLike<number>;
  } else {
    const t = raw as IntTensor;
    expectShape('lengths', t.shape, [B]);
    values = t.data;
  }
  if (values.length !== B) throw new RangeError(`lengths: expected ${B} entries (one per batch row), got ${values.length}`);
  const out = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const v = Number(values[b]);
    if (!Number.isInteger(v) || v < 1 || v > T) {
      throw new RangeError(`lengths[${b}] = ${String(values[b])}: each length must be an integer in [1, T=${T}]`);
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

/** Checks a stream's batch and initial state; returns h0 / c0 data (undefined for zeros). */
export function prepareStreamState(
  config: RnnConfig,
  batch: number,
  state: { h0?: Tensor; c0?: Tensor } = {},
): { h0?: TensorData; c0?: TensorData } {
  if (config.bidirectional) {
    throw new RangeError('stream: a bidirectional model needs the whole sequence (its reverse direction starts at the end); use forward()');
  }
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`stream: batch must be a positive integer, got ${batch}`);
  const L = config.num_layers;
  if (state.h0) expectShape('h0', state.h0.shape, [L, batch, outputSize(config)]);
  if (state.c0) {
    if (config.mode !== 'LSTM') throw new RangeError(`c0: only LSTM has a cell state (mode is ${config.mode})`);
    expectShape('c0', state.c0.shape, [L, batch, config.hidden_size]);
  }
  return { h0: state.h0?.data, c0: state.c0?.data };
}

/** Checks a stream chunk and brings it to time-major layout. */
export function prepareChunk(config: RnnConfig, batch: number, chunk: Tensor, lengths: ForwardOptions['lengths']): PreparedInputs {
  const prepared = prepareInputs(config, chunk, { lengths });
  if (prepared.B !== batch) {
    throw new RangeError(`stream chunk: expected batch ${batch} (the stream's), got shape ${formatShape(chunk.shape)}`);
  }
  return prepared;
}
