// Helpers of the recurrent kernels (recurrent-step, projection, recurrent-persistent), included after
// the prelude (src/gpu/wgsl.ts). Each of those kernels declares a uniform `dims` with the fields
// T, B, H, H_out, D, w_hr_offset; the layer's packed weights `params: array<weight4>` (gate-interleaved, see
// src/gpu/layer-weights.ts); `w_hr: array<weight2>` (LSTM projection, PyTorch's layout); and
// `w_hh_tex: texture_2d<f32>` with the override W_TEXTURE (below).

// Training (override SAVE in the step and persistent kernels): where the forward keeps what the
// backward pass needs (shaders/recurrent-backward.wgsl reads it), as f32 offsets into `saved`: the
// gates' pre-activations (D, T, B, H, 4), c_t (D, T, B, H; LSTM) and h_raw (D, T, B, H; projection);
// and where recurrent dropout's mask is (D, B, H_out) (RECURRENT_MASK).
struct SaveDims {
  pre: u32,
  c: u32,
  h_raw: u32,
  mask: u32,
}

// One packed weight element, widened to f32 (see the weights-*.wgsl headers).
fn param4(i: u32) -> vec4<f32> {
  return widen4(params[i]);
}

// Rows k … k + 3 of W_hh of one unit's gate vec4s, from vec4 index w of row k (rows H vec4s apart).
fn w_hh_rows(w: u32) -> mat4x4<f32> {
  let H = dims.H;
  return mat4x4<f32>(param4(w), param4(w + H), param4(w + 2u * H), param4(w + 3u * H));
}

// W_TEXTURE: the kernel reads W_hh from `w_hh_tex`, a copy the host makes at upload on software
// adapters (LayerWeights.wHhTexture, src/gpu/layer-weights.ts): texel (j, d·H_out + k) = W_hh's gate vec4
// (d, k, j), rgba32float or rgba16float. There a texel is one load per lane, where a vec4 at a per-lane
// index in a storage buffer is four gathers of four lanes each. Else `w_hh_tex` is a placeholder.
//
// W_hh rows k … k + 3 of unit j's gate vec4s, row k at vec4 index w of `params` (texture row y).
fn w_hh_quad(w: u32, j: u32, y: u32) -> mat4x4<f32> {
  if (W_TEXTURE) {
    return mat4x4<f32>(textureLoad(w_hh_tex, vec2<u32>(j, y), 0), textureLoad(w_hh_tex, vec2<u32>(j, y + 1u), 0),
                       textureLoad(w_hh_tex, vec2<u32>(j, y + 2u), 0), textureLoad(w_hh_tex, vec2<u32>(j, y + 3u), 0));
  }
  return w_hh_rows(w);
}

// W_hh row k of unit j's gate vec4s, at vec4 index w of `params` (texture row y).
fn w_hh_one(w: u32, j: u32, y: u32) -> vec4<f32> {
  if (W_TEXTURE) { return textureLoad(w_hh_tex, vec2<u32>(j, y), 0); }
  return param4(w);
}

// Element i of W_hr (stored two to a weight2), which starts at element dims.w_hr_offset (even).
fn w_hr_at(i: u32) -> f32 {
  let e = dims.w_hr_offset + i;
  let pair = widen2(w_hr[e / 2u]);
  return select(pair.x, pair.y, (e & 1u) == 1u);
}

// The time index direction d processes at loop step s: t = s forward, T − 1 − s in reverse.
fn time_at(d: u32, s: u32) -> u32 {
  return select(s, dims.T - 1u - s, d == 1u);
}

// Where h of unit p, row b, direction d sits in a state buffer: h (D, B, H_out) comes first …
fn h_index(d: u32, b: u32, p: u32) -> u32 {
  return (d * dims.B + b) * dims.H_out + p;
}

// … then the cell state c (D, B, H) (LSTM).
fn c_index(d: u32, b: u32, j: u32) -> u32 {
  return dims.D * dims.B * dims.H_out + (d * dims.B + b) * dims.H + j;
}

// Where output element p of direction d, row b, time t goes: (T, B, D·H_out), directions side by side.
fn out_index(t: u32, b: u32, d: u32, p: u32) -> u32 {
  return (t * dims.B + b) * dims.D * dims.H_out + d * dims.H_out + p;
}
