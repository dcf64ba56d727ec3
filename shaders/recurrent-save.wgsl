// Training: what the forward kernels that run the cell (recurrent-step, recurrent-persistent) keep for
// the backward pass (shaders/recurrent-backward.wgsl reads it), included after recurrent-common.wgsl
// (src/gpu/wgsl.ts). Each of those kernels declares the overrides MODE, HAS_PROJ and RECURRENT_MASK,
// the uniform `save: SaveDims` and the buffer `saved: array<f32>`.

// Recurrent (variational) dropout, RECURRENT_MASK: W_hh multiplies scale·h_{t−1}, where the scale of
// element i = h_index(d, b, k) — 0 or 1/(1 − p), drawn once per sequence by the dropout op (FILL) —
// sits in `saved` at save.mask. 1 without it (and never read: the binding may be a placeholder).
fn recurrent_scale(i: u32) -> f32 {
  if (RECURRENT_MASK) { return saved[save.mask + i]; }
  return 1.0;
}

// The pre-activations a step keeps, from the input projection x and the recurrent term rec: their sum
// per gate lane (LSTM i, f, g, o; RNN lane 0), but GRU keeps r and z summed, then W_in·x + b_in and
// W_hn·h + b_hn apart (r multiplies the latter).
fn saved_pre(mode: u32, x: vec4<f32>, rec: vec4<f32>) -> vec4<f32> {
  if (mode == MODE_GRU) { return vec4<f32>(x.x + rec.x, x.y + rec.y, x.z, rec.z); }
  return x + rec;
}

// Keeps element e = ((d·T + t)·B + b)·H + j of a step: its pre-activations (four floats), and for
// an LSTM its c_t (hc.y) and, with projection, h_raw = o·tanh(c_t) (hc.x, from cell_update).
fn save_step(e: u32, x: vec4<f32>, rec: vec4<f32>, hc: vec2<f32>) {
  let pre = saved_pre(MODE, x, rec);
  saved[save.pre + 4u * e] = pre.x;
  saved[save.pre + 4u * e + 1u] = pre.y;
  saved[save.pre + 4u * e + 2u] = pre.z;
  saved[save.pre + 4u * e + 3u] = pre.w;
  if (MODE == MODE_LSTM) {
    saved[save.c + e] = hc.y;
    if (HAS_PROJ) { saved[save.h_raw + e] = hc.x; }
  }
}
