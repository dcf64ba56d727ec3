/**
 * Parameter initialisation, seeded (so a run is reproducible), with PyTorch's schemes:
 *   'default'     what PyTorch's modules do: the recurrent module U(−1/√H, 1/√H) for every tensor;
 *                 nn.Embedding N(0, 1); nn.Linear U(−1/√fan_in, 1/√fan_in) for weight and bias
 *   'xavier'      Glorot: weights U(−a, a), a = √(6 / (fan_in + fan_out)) per gate block; biases 0
 *   'kaiming'     He: weights U(−b, b), b = √(6 / fan_in) (kaiming_uniform_, ReLU gain); biases 0
 * Options that apply on top of any scheme:
 *   orthogonal    each gate block of every W_hh an orthogonal matrix (the recurrent weights neither
 *                 shrink nor grow a vector: the classic cure for vanishing/exploding gradients)
 *   forgetBias    LSTM: b_ih's forget-gate block set to this value and b_hh's to 0 (1 is the common
 *                 choice: the cell keeps its memory by default)
 */
import { gateCount } from '../config.js';
import { RnnError, describeValue } from '../errors.js';
import { seededUniform } from '../random.js';
import { type ModelConfig, modelParameterSpecs, rnnFeatures } from './config.js';

export interface InitOptions {
  scheme?: 'default' | 'xavier' | 'kaiming';
  orthogonal?: boolean;
  forgetBias?: number;
  seed?: number;
}

const INIT_KEYS = ['scheme', 'orthogonal', 'forgetBias', 'seed'];

/** Standard normal samples from a uniform generator (Box–Muller). */
function normal(next: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

/** A rows × cols matrix with orthonormal rows (rows ≤ cols) or columns, by Gram–Schmidt on a Gaussian one. */
export function orthogonal(rows: number, cols: number, gauss: () => number): Float64Array {
  const tall = rows >= cols;
  const [n, m] = tall ? [cols, rows] : [rows, cols]; // n vectors of length m
  const v = Array.from({ length: n }, () => Float64Array.from({ length: m }, gauss));
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < i; k++) {
      let dot = 0;
      for (let e = 0; e < m; e++) dot += v[i][e] * v[k][e];
      for (let e = 0; e < m; e++) v[i][e] -= dot * v[k][e];
    }
    let norm = 0;
    for (let e = 0; e < m; e++) norm += v[i][e] ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let e = 0; e < m; e++) v[i][e] /= norm;
  }
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < n; i++) for (let e = 0; e < m; e++) out[tall ? e * cols + i : i * cols + e] = v[i][e];
  return out;
}

/** Initial parameters by state_dict name. */
export function initialParameters(model: ModelConfig, options: InitOptions = {}): Record<string, Float64Array> {
  if (options === null || typeof options !== 'object') throw new RnnError('OPTION_INVALID', `init: expected an object, got ${describeValue(options)}`);
  const unknown = Object.keys(options).filter((k) => !INIT_KEYS.includes(k));
  if (unknown.length) throw new RnnError('OPTION_INVALID', `init: unknown option(s) ${unknown.join(', ')}; known options are ${INIT_KEYS.join(', ')}`);
  const scheme = options.scheme ?? 'default';
  if (!['default', 'xavier', 'kaiming'].includes(scheme))
    throw new RnnError('OPTION_INVALID', `init.scheme: expected "default", "xavier" or "kaiming", got ${describeValue(scheme)}`);
  if (options.forgetBias !== undefined && (typeof options.forgetBias !== 'number' || !Number.isFinite(options.forgetBias))) {
    throw new RnnError('OPTION_INVALID', `init.forgetBias: expected a finite number, got ${describeValue(options.forgetBias)}`);
  }
  if (options.forgetBias !== undefined && model.rnn.mode !== 'LSTM') {
    throw new RnnError('OPTION_INVALID', `init.forgetBias: only an LSTM has a forget gate (the model's mode is ${model.rnn.mode})`);
  }
  if (options.orthogonal !== undefined && typeof options.orthogonal !== 'boolean')
    throw new RnnError('OPTION_INVALID', `init.orthogonal: expected true or false, got ${describeValue(options.orthogonal)}`);
  if (options.seed !== undefined && (!Number.isSafeInteger(options.seed) || options.seed < 0))
    throw new RnnError('OPTION_INVALID', `init.seed: expected a non-negative integer, got ${describeValue(options.seed)}`);
  const next = seededUniform(options.seed ?? 0);
  const gauss = normal(next);
  const uniform = (bound: number) => (2 * next() - 1) * bound;
  const rnn = model.rnn;
  const H = rnn.hidden_size;
  const G = gateCount(rnn.mode);
  const params: Record<string, Float64Array> = {};
  for (const spec of modelParameterSpecs(model)) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const p = new Float64Array(size);
    const isBias = spec.shape.length === 1;
    if (spec.name === 'embedding.weight') {
      for (let i = 0; i < size; i++) p[i] = gauss();
    } else if (spec.name.startsWith('head.')) {
      const fanIn = rnnFeatures(model); // nn.Linear: in_features, for the weight and the bias alike
      const bound = scheme === 'default' || isBias ? 1 / Math.sqrt(fanIn) : scheme === 'xavier' ? Math.sqrt(6 / (fanIn + spec.shape[0])) : Math.sqrt(6 / fanIn);
      for (let i = 0; i < size; i++) p[i] = scheme !== 'default' && isBias ? 0 : uniform(bound);
    } else if (scheme === 'default' || isBias) {
      for (let i = 0; i < size; i++) p[i] = scheme === 'default' ? uniform(1 / Math.sqrt(H)) : 0;
    } else {
      // A recurrent weight (G·rows, cols), scheme per gate block: fan_in = cols, fan_out = rows of a block.
      const [rows, cols] = [spec.shape[0] / (spec.rnn?.kind === 'weight_hr' ? 1 : G), spec.shape[1]];
      const bound = scheme === 'xavier' ? Math.sqrt(6 / (cols + rows)) : Math.sqrt(6 / cols);
      for (let i = 0; i < size; i++) p[i] = uniform(bound);
    }
    if (options.orthogonal && spec.rnn?.kind === 'weight_hh') {
      const cols = spec.shape[1];
      for (let g = 0; g < G; g++) p.set(orthogonal(H, cols, gauss), g * H * cols);
    }
    if (options.forgetBias !== undefined && rnn.mode === 'LSTM' && (spec.rnn?.kind === 'bias_ih' || spec.rnn?.kind === 'bias_hh')) {
      p.fill(spec.rnn.kind === 'bias_ih' ? options.forgetBias : 0, H, 2 * H);
    }
    params[spec.name] = p;
  }
  return params;
}
