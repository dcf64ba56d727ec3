/**
 * Model configuration, named exactly as PyTorch's nn.RNN / nn.LSTM / nn.GRU constructor arguments.
 * `resolveConfig` fills PyTorch's defaults and rejects anything PyTorch would reject, plus unknown keys.
 */

import { RnnError, describeValue } from './errors.js';

export type RnnMode = 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU';
export const RNN_MODES: readonly RnnMode[] = ['RNN_TANH', 'RNN_RELU', 'LSTM', 'GRU'];

/** What a user writes (config.json or code). Absent keys take PyTorch's defaults. */
export interface RnnConfigInput {
  /** 'LSTM' | 'GRU' | 'RNN_TANH' | 'RNN_RELU', or 'RNN' together with `nonlinearity`. */
  mode: RnnMode | 'RNN';
  input_size: number;
  hidden_size: number;
  num_layers?: number;
  /** Only for mode 'RNN' (or consistent with 'RNN_TANH' / 'RNN_RELU'): 'tanh' (default) or 'relu'. */
  nonlinearity?: 'tanh' | 'relu';
  bias?: boolean;
  batch_first?: boolean;
  /** Training-only in PyTorch; accepted and ignored at inference. */
  dropout?: number;
  /**
   * Training only, and not in PyTorch: variational ("recurrent") dropout on h_{t−1} before W_hh — one
   * mask per (layer, direction, batch row) drawn once per sequence, as Keras's `recurrent_dropout`. In [0, 1).
   */
  recurrent_dropout?: number;
  bidirectional?: boolean;
  /** LSTM only: size of the projected hidden state h (0 = no projection). */
  proj_size?: number;
}

/** A fully resolved configuration: every field present and checked. */
export interface RnnConfig {
  readonly mode: RnnMode;
  readonly input_size: number;
  readonly hidden_size: number;
  readonly num_layers: number;
  readonly bias: boolean;
  readonly batch_first: boolean;
  readonly dropout: number;
  /** 0 unless set (training only; see RnnConfigInput). */
  readonly recurrent_dropout: number;
  readonly bidirectional: boolean;
  readonly proj_size: number;
}

const KNOWN_KEYS = new Set([
  'mode',
  'input_size',
  'hidden_size',
  'num_layers',
  'nonlinearity',
  'bias',
  'batch_first',
  'dropout',
  'recurrent_dropout',
  'bidirectional',
  'proj_size',
]);

/** Number of gates stacked in weight_ih / weight_hh rows: LSTM i,f,g,o; GRU r,z,n; RNN one. */
export function gateCount(mode: RnnMode): number {
  return mode === 'LSTM' ? 4 : mode === 'GRU' ? 3 : 1;
}

export function numDirections(config: RnnConfig): number {
  return config.bidirectional ? 2 : 1;
}

/** Size of h (and of each direction's output features): proj_size when projecting, else hidden_size. */
export function outputSize(config: RnnConfig): number {
  return config.proj_size > 0 ? config.proj_size : config.hidden_size;
}

function positiveInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
    throw new RnnError('CONFIG_INVALID', `config.${name}: expected a positive integer, got ${describeValue(v)}`);
  }
  return v;
}

function bool(name: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new RnnError('CONFIG_INVALID', `config.${name}: expected true or false, got ${describeValue(v)}`);
  return v;
}

/** Validates a user configuration and fills PyTorch's defaults. Throws naming the offending key. */
export function resolveConfig(input: RnnConfigInput | Record<string, unknown>): RnnConfig {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new RnnError('CONFIG_INVALID', `config: expected an object of PyTorch constructor arguments, got ${describeValue(input)}`);
  }
  const raw = input as Record<string, unknown>;
  const unknown = Object.keys(raw).filter((k) => !KNOWN_KEYS.has(k));
  if (unknown.length > 0) {
    throw new RnnError(
      'CONFIG_INVALID',
      `config: unknown key(s) ${unknown
        .slice(0, 10)
        .map((k) => describeValue(k))
        .join(', ')}; known keys are ${[...KNOWN_KEYS].join(', ')}`,
    );
  }
  const mode = resolveMode(raw.mode, raw.nonlinearity);
  const hidden_size = positiveInt('hidden_size', raw.hidden_size);
  const num_layers = raw.num_layers === undefined ? 1 : positiveInt('num_layers', raw.num_layers);
  let proj_size = 0;
  if (raw.proj_size !== undefined) {
    const p = raw.proj_size;
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0) {
      throw new RnnError('CONFIG_INVALID', `config.proj_size: expected a non-negative integer, got ${describeValue(p)}`);
    }
    proj_size = p;
  }
  if (proj_size > 0 && mode !== 'LSTM') throw new RnnError('CONFIG_INVALID', `config.proj_size: only LSTM supports proj_size > 0 (mode is ${mode})`);
  if (proj_size >= hidden_size) {
    throw new RnnError('CONFIG_INVALID', `config.proj_size: must be smaller than hidden_size (${proj_size} >= ${hidden_size})`);
  }
  let dropout = 0;
  if (raw.dropout !== undefined) {
    const d = raw.dropout;
    if (typeof d !== 'number' || !(d >= 0 && d <= 1))
      throw new RnnError('CONFIG_INVALID', `config.dropout: expected a number in [0, 1], got ${describeValue(d)}`);
    dropout = d;
  }
  let recurrent_dropout = 0;
  if (raw.recurrent_dropout !== undefined) {
    const d = raw.recurrent_dropout;
    // p = 1 would drop every h_{t−1} and scale by 1/0: the range is half-open, unlike dropout's.
    if (typeof d !== 'number' || !(d >= 0 && d < 1))
      throw new RnnError('CONFIG_INVALID', `config.recurrent_dropout: expected a number in [0, 1), got ${describeValue(d)}`);
    recurrent_dropout = d;
  }
  return {
    mode,
    input_size: positiveInt('input_size', raw.input_size),
    hidden_size,
    num_layers,
    bias: bool('bias', raw.bias, true),
    batch_first: bool('batch_first', raw.batch_first, false),
    dropout,
    recurrent_dropout,
    bidirectional: bool('bidirectional', raw.bidirectional, false),
    proj_size,
  };
}

function resolveMode(mode: unknown, nonlinearity: unknown): RnnMode {
  if (nonlinearity !== undefined && nonlinearity !== 'tanh' && nonlinearity !== 'relu') {
    throw new RnnError('CONFIG_INVALID', `config.nonlinearity: expected "tanh" or "relu", got ${describeValue(nonlinearity)}`);
  }
  if (mode === 'RNN') return nonlinearity === 'relu' ? 'RNN_RELU' : 'RNN_TANH';
  if (typeof mode !== 'string' || !(RNN_MODES as readonly string[]).includes(mode)) {
    throw new RnnError('CONFIG_INVALID', `config.mode: expected one of ${RNN_MODES.join(', ')} (or "RNN" with nonlinearity), got ${describeValue(mode)}`);
  }
  const m = mode as RnnMode;
  if (nonlinearity !== undefined) {
    const implied = m === 'RNN_RELU' ? 'relu' : m === 'RNN_TANH' ? 'tanh' : undefined;
    if (implied !== nonlinearity) {
      throw new RnnError('CONFIG_INVALID', `config.nonlinearity: ${describeValue(nonlinearity)} contradicts mode ${m}`);
    }
  }
  return m;
}
