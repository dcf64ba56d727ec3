/** Seeded random tensors and PyTorch-style random weights, so every "random" test is reproducible. */
import { randomWeights, seededUniform } from '../../src/random.js';
import { type RnnConfig, resolveConfig, type RnnConfigInput } from '../../src/config.js';
import type { Weights } from '../../src/params.js';
import { type Tensor, sizeOf } from '../../src/tensor.js';

/** Seeded uniforms in [0, 1) (mulberry32) and PyTorch-style random weights, shared with the benchmark. */
export const rng = seededUniform;
export { randomWeights };

/** Standard normal samples (Box–Muller), times `scale`. */
export function randn(next: () => number, shape: number[], scale = 1): Tensor {
  const data = new Float32Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) {
    const u = 1 - next();
    data[i] = scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
  }
  return { shape, data };
}

export interface RandomCase {
  config: RnnConfig;
  weights: Weights;
  input: Tensor;
  h0?: Tensor;
  c0?: Tensor;
  lengths?: Int32Array;
}

/** A random problem for a configuration: input, optional h0 / c0 and unsorted lengths (one full). */
export function randomCase(
  configInput: RnnConfigInput,
  seed: number,
  shape: { T: number; B: number; h0?: boolean; lengths?: boolean; scale?: number },
): RandomCase {
  const next = rng(seed);
  const config = resolveConfig(configInput);
  const { T, B } = shape;
  const D = config.bidirectional ? 2 : 1;
  const Hout = config.proj_size > 0 ? config.proj_size : config.hidden_size;
  const inputShape = config.batch_first ? [B, T, config.input_size] : [T, B, config.input_size];
  const c: RandomCase = { config, weights: randomWeights(config, next), input: randn(next, inputShape, shape.scale ?? 1) };
  if (shape.h0) {
    c.h0 = randn(next, [config.num_layers * D, B, Hout]);
    if (config.mode === 'LSTM') c.c0 = randn(next, [config.num_layers * D, B, config.hidden_size]);
  }
  if (shape.lengths) {
    c.lengths = Int32Array.from({ length: B }, () => 1 + Math.floor(next() * T));
    c.lengths[Math.floor(next() * B)] = T;
  }
  return c;
}
