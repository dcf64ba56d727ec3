/**
 * `createRnn`: builds a model from a PyTorch-style configuration and state_dict on either backend,
 * after checking every option and weight. The types it returns are in api.ts.
 */
import type { CreateRnnOptions, Rnn } from './api.js';
import { CpuRnn } from './backends/cpu.js';
import { WebGpuRnn } from './backends/webgpu.js';
import { type RnnConfig, type RnnConfigInput, resolveConfig } from './config.js';
import { RnnError, describeValue } from './errors.js';
import { checkOptions, rejectNonFinite } from './inputs.js';
import { type Weights, checkWeights, selectPrefix, stripCommonPrefix } from './params.js';
import type { StrategyChoice } from './gpu/strategy.js';
import { type SafetensorsFile, isIntTensor, readSafetensors } from './safetensors.js';
import type { IntTensor } from './tensor.js';

export type { Backend, CreateRnnOptions, Rnn, RnnStream, StreamOptions, StreamState } from './api.js';

const STRATEGIES: readonly StrategyChoice[] = ['auto', 'per-step', 'persistent', 'fused'];
const CREATE_OPTIONS = ['config', 'weights', 'backend', 'device', 'strategy', 'precision', 'prefix', 'checkFinite'] as const;

/** Builds a model: checks the configuration and every weight tensor, then uploads (WebGPU) or keeps them. */
export async function createRnn(options: CreateRnnOptions): Promise<Rnn> {
  const opts = checkOptions<CreateRnnOptions>('createRnn options', options, CREATE_OPTIONS);
  if (opts.config === undefined)
    throw new RnnError(
      'OPTION_INVALID',
      'createRnn options.config: missing (PyTorch constructor arguments, e.g. { mode: "LSTM", input_size: 16, hidden_size: 32 })',
    );
  if (opts.weights === undefined)
    throw new RnnError('OPTION_INVALID', 'createRnn options.weights: missing (a state_dict: tensors by name, a decoded safetensors file or its bytes)');
  const config = resolveConfig(opts.config as RnnConfigInput);
  const backend = opts.backend ?? 'webgpu';
  if (backend !== 'webgpu' && backend !== 'cpu' && backend !== 'auto') {
    throw new RnnError('OPTION_INVALID', `createRnn options.backend: expected "webgpu", "cpu" or "auto", got ${describeValue(backend)}`);
  }
  // Checked whatever the backend, so a typo fails on the CPU backend as it would on WebGPU.
  if (opts.strategy !== undefined && !STRATEGIES.includes(opts.strategy)) {
    throw new RnnError(
      'OPTION_INVALID',
      `createRnn options.strategy: expected "auto", "per-step", "persistent" or "fused", got ${describeValue(opts.strategy)}`,
    );
  }
  if (opts.precision !== undefined && opts.precision !== 'f32' && opts.precision !== 'f16') {
    throw new RnnError('OPTION_INVALID', `createRnn options.precision: expected "f32" or "f16", got ${describeValue(opts.precision)}`);
  }
  if (opts.checkFinite !== undefined && typeof opts.checkFinite !== 'boolean') {
    throw new RnnError('OPTION_INVALID', `createRnn options.checkFinite: expected true or false, got ${describeValue(opts.checkFinite)}`);
  }
  if (opts.device !== undefined && !looksLikeDevice(opts.device)) {
    throw new RnnError('OPTION_INVALID', `createRnn options.device: expected a GPUDevice, got ${describeValue(opts.device)}`);
  }
  const checkFinite = opts.checkFinite ?? false;
  const weights = loadWeights(config, opts.weights, opts.prefix);
  if (checkFinite) for (const [name, t] of Object.entries(weights)) rejectNonFinite(`weights ${name}`, t.data);
  const cpu = () => new CpuRnn(config, weights, checkFinite);
  if (backend === 'cpu') return cpu();
  const gpu = () => WebGpuRnn.create(config, weights, { device: opts.device, strategy: opts.strategy, precision: opts.precision, checkFinite });
  if (backend === 'webgpu') return gpu();
  try {
    return await gpu();
  } catch (e) {
    // 'auto' falls back only where the host has no usable WebGPU; a caller's mistake is still an error.
    if (e instanceof RnnError && !['WEBGPU_UNAVAILABLE', 'WEBGPU_PACKAGE_MISSING', 'DEVICE_LOST'].includes(e.code)) throw e;
    return cpu();
  }
}

function looksLikeDevice(value: unknown): value is GPUDevice {
  return (
    value !== null && typeof value === 'object' && typeof (value as GPUDevice).createBuffer === 'function' && typeof (value as GPUDevice).queue === 'object'
  );
}

function loadWeights(config: RnnConfig, source: unknown, prefix: string | undefined): Weights {
  if (source instanceof ArrayBuffer) {
    throw new RnnError(
      'WEIGHTS_INVALID',
      `weights: got an ArrayBuffer of ${source.byteLength} bytes; pass a safetensors file's bytes as a Uint8Array (new Uint8Array(buffer))`,
    );
  }
  if (source === null || typeof source !== 'object' || Array.isArray(source) || (ArrayBuffer.isView(source) && !(source instanceof Uint8Array))) {
    throw new RnnError(
      'WEIGHTS_INVALID',
      `weights: expected tensors by name, a decoded safetensors file or its bytes (Uint8Array), got ${describeValue(source)}`,
    );
  }
  const file = source instanceof Uint8Array ? readSafetensors(source) : source;
  const tensors: Record<string, unknown> =
    'tensors' in file && typeof file.tensors === 'object' && file.tensors !== null && 'dtypes' in file
      ? (file as SafetensorsFile).tensors
      : (file as Record<string, unknown>);
  for (const [name, t] of Object.entries(tensors)) {
    if (t !== null && typeof t === 'object' && isIntTensor(t as IntTensor)) {
      throw new RnnError('WEIGHTS_INVALID', `tensor ${name}: weights must be floating point, got an integer tensor`);
    }
  }
  const selected = prefix === undefined ? stripCommonPrefix(config, tensors as Weights) : selectPrefix(tensors as Weights, prefix);
  checkWeights(config, selected);
  return selected;
}
