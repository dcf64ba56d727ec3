// The counter-based uniforms of training (dropout masks): the same function as src/reference/rng.ts.
// pcg_hash is PCG's step and output permutation on one word (Jarzynski & Olano, "Hash Functions for
// GPU Rendering", 2020); a uniform in [0, 1) is a hash chain over (seed, stream, index).

fn pcg_hash(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

fn uniform01(seed: u32, stream: u32, index: u32) -> f32 {
  // The top 24 bits as an exact f32 fraction: u32 → f32 would round up to 1.0 for the largest words.
  return f32(pcg_hash(pcg_hash(seed + pcg_hash(stream)) ^ index) >> 8u) / 16777216.0;
}
