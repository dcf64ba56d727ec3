import type { RnnConfig } from './config.js';
import { type Weights, parameterSpecs } from './params.js';
import { type Tensor, sizeOf } from './tensor.js';

/**
 * mulberry32: a small, fast, seeded generator of uniforms in [0, 1). The benchmark's workloads and
 * the tests' random problems use it so every "random" figure is reproducible.
 */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A state_dict drawn like PyTorch's default init, U(−1/√H, 1/√H), in parameterSpecs order. */
export function randomWeights(config: RnnConfig, next: () => number): Weights {
  const bound = 1 / Math.sqrt(config.hidden_size);
  const weights: Record<string, Tensor> = {};
  for (const spec of parameterSpecs(config)) {
    const data = new Float32Array(sizeOf(spec.shape));
    for (let i = 0; i < data.length; i++) data[i] = (2 * next() - 1) * bound;
    weights[spec.name] = { shape: spec.shape, data };
  }
  return weights;
}
