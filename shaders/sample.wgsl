// Drawing the next token of a language model on the GPU, so a whole generation is one submission:
// from the logits (O) of the last position, with temperature τ and top-k, a token drawn with the
// counter-based uniform (train-rng.wgsl) of this position, written after the sequence so far.
// `tokens` is [cursor, t_1, t_2, …]: cursor is how many tokens the sequence holds; the new token goes
// to tokens[cursor + 1] and cursor grows by one (the next gather reads tokens[cursor]).
//   τ = 0: the most likely token (greedy). Otherwise p_i ∝ exp((l_i − max) / τ) over the k largest
//   logits (k = 0: all of them), and the token is the first whose running sum passes u·Σp.
// One invocation: O is a vocabulary (thousands at most) and this runs once per token.

struct SampleDims {
  O: u32,
  top_k: u32,
  seed: u32,
  temperature: f32,
}

@group(0) @binding(0) var<uniform> dims: SampleDims;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> tokens: array<u32>;

@compute @workgroup_size(1)
fn sample() {
  let O = dims.O;
  var best = 0u;
  for (var o = 1u; o < O; o++) { if (logits[o] > logits[best]) { best = o; } }
  var chosen = best;
  if (dims.temperature > 0.0) {
    // The k-th largest logit, by k passes of "largest below the last one" (ties kept together).
    var threshold = -3.0e38;
    if (dims.top_k > 0u && dims.top_k < O) {
      var above = 3.0e38;
      for (var k = 0u; k < dims.top_k; k++) {
        var m = -3.0e38;
        for (var o = 0u; o < O; o++) { if (logits[o] < above) { m = max(m, logits[o]); } }
        above = m;
      }
      threshold = above;
    }
    let top = logits[best];
    var total = 0.0;
    for (var o = 0u; o < O; o++) { if (logits[o] >= threshold) { total += exp((logits[o] - top) / dims.temperature); } }
    let u = uniform01(dims.seed, tokens[0], 0u) * total;
    var run = 0.0;
    chosen = best;
    for (var o = 0u; o < O; o++) {
      if (logits[o] >= threshold) {
        run += exp((logits[o] - top) / dims.temperature);
        if (run > u) { chosen = o; break; }
      }
    }
  }
  let cursor = tokens[0];
  tokens[cursor + 1u] = chosen;
  tokens[0] = cursor + 1u;
}
