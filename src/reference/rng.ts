/**
 * The counter-based random numbers of training (dropout masks), the same on the CPU and the GPU: a
 * uniform in [0, 1) is a pure function of (seed, stream, index) — no state, so any element can be
 * drawn by any invocation, in any order, and a run is reproducible from its seed. The hash is PCG's
 * output permutation as Jarzynski and Olano use it for GPU hashing ("Hash Functions for GPU
 * Rendering", 2020), chained over the three words; shaders/train-rng.wgsl has the same function
 * (the training tests check the GPU's dropout masks against this one).
 */

/** pcg_hash: one round of a PCG step and its output permutation on a 32-bit word. */
export function pcgHash(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> (((state >>> 28) + 4) >>> 0)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/**
 * A uniform in [0, 1) for element `index` of stream `stream` under `seed` (all u32): the hash's top 24
 * bits as a fraction, which f32 holds exactly (so the GPU's value is the same number).
 */
export function uniform01(seed: number, stream: number, index: number): number {
  return (pcgHash((pcgHash((seed + pcgHash(stream)) >>> 0) ^ index) >>> 0) >>> 8) / 16777216;
}

/** Dropout's keep test, as PyTorch applies it: an element survives with probability 1 − p. */
export function keeps(seed: number, stream: number, index: number, p: number): boolean {
  return uniform01(seed, stream, index) >= p;
}

/**
 * The stream of layer l's recurrent-dropout masks in a recurrent module whose streams start at
 * `streamBase` (dropout between layers uses streamBase + l): far above any layer count, so the two
 * kinds of mask never share a stream.
 */
export function recurrentMaskStream(streamBase: number, l: number): number {
  return 0x10000 + streamBase + l;
}

/**
 * Recurrent dropout's scale of h_{t−1}[k] for (direction d, batch row b) of a layer: 1/(1 − p) or 0,
 * element (d·B + b)·H_out + k of its stream — the state's h layout, as the GPU keeps the mask.
 */
export function recurrentMask(seed: number, stream: number, D: number, B: number, Hout: number, p: number): Float64Array {
  const keep = 1 / (1 - p);
  return Float64Array.from({ length: D * B * Hout }, (_, i) => (keeps(seed, stream, i, p) ? keep : 0));
}
