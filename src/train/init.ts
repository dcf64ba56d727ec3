/**
 * Parameter initialisation, seeded (so a run is reproducible), with PyTorch's schemes (each layer
 * draws its own, layers/*, from one generator in state_dict order):
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
import { RnnError, describeValue } from '../errors.js';
import { seededUniform } from '../random.js';
import type { TrainableConfig } from './config.js';
import type { InitDraws } from './layers/layer.js';
import { trainModel } from './model.js';
import { isSeq2Seq } from './seq2seq-config.js';

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

/** Initial parameters by state_dict name. */
export function initialParameters(model: TrainableConfig, options: InitOptions = {}): Record<string, Float64Array> {
  if (options === null || typeof options !== 'object') throw new RnnError('OPTION_INVALID', `init: expected an object, got ${describeValue(options)}`);
  const unknown = Object.keys(options).filter((k) => !INIT_KEYS.includes(k));
  if (unknown.length) throw new RnnError('OPTION_INVALID', `init: unknown option(s) ${unknown.join(', ')}; known options are ${INIT_KEYS.join(', ')}`);
  const scheme = options.scheme ?? 'default';
  if (!['default', 'xavier', 'kaiming'].includes(scheme))
    throw new RnnError('OPTION_INVALID', `init.scheme: expected "default", "xavier" or "kaiming", got ${describeValue(scheme)}`);
  if (options.forgetBias !== undefined && (typeof options.forgetBias !== 'number' || !Number.isFinite(options.forgetBias))) {
    throw new RnnError('OPTION_INVALID', `init.forgetBias: expected a finite number, got ${describeValue(options.forgetBias)}`);
  }
  const modes = isSeq2Seq(model) ? [model.encoder.mode, model.decoder.mode] : [model.rnn.mode];
  if (options.forgetBias !== undefined && !modes.includes('LSTM')) {
    throw new RnnError('OPTION_INVALID', `init.forgetBias: only an LSTM has a forget gate (the model's mode is ${[...new Set(modes)].join(' and ')})`);
  }
  if (options.orthogonal !== undefined && typeof options.orthogonal !== 'boolean')
    throw new RnnError('OPTION_INVALID', `init.orthogonal: expected true or false, got ${describeValue(options.orthogonal)}`);
  if (options.seed !== undefined && (!Number.isSafeInteger(options.seed) || options.seed < 0))
    throw new RnnError('OPTION_INVALID', `init.seed: expected a non-negative integer, got ${describeValue(options.seed)}`);
  const next = seededUniform(options.seed ?? 0);
  const gauss = normal(next);
  // One generator, taken in state_dict order across the layers: the same seed gives the same model.
  const draws: InitDraws = {
    uniform: (bound) => (2 * next() - 1) * bound,
    gauss,
    scheme: scheme as InitDraws['scheme'],
    orthogonal: options.orthogonal ?? false,
    forgetBias: options.forgetBias,
  };
  return Object.assign({}, ...trainModel(model).layers.map((layer) => layer.initialise(draws)));
}
