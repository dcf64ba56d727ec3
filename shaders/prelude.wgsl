// Shared prelude, prepended to every kernel family. The only text joining we do: src/gpu/wgsl.ts puts a
// weight storage header (shaders/weights-*.wgsl), then this prelude, then the kernel file.
// Activations written to stay finite and accurate in f32 for any input, including saturating ones.

// Logistic sigmoid without overflow: exp() only ever sees a non-positive argument. A NaN is passed
// through (see is_nan below).
fn sigmoid(v: f32) -> f32 {
  let e = exp(-abs(v));
  return select(select(e / (1.0 + e), 1.0 / (1.0 + e), v >= 0.0), v, is_nan(v));
}

// NaN test on the bits: WGSL lets a compiler assume floats are never NaN, so `v != v` may fold to
// false; integer arithmetic cannot be folded that way.
fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

// tanh(±10) is ±1 to within f32 rounding; clamping keeps backends whose tanh is exp-based from
// producing inf/inf = NaN on large inputs, while the builtin keeps full accuracy near zero. clamp()
// of a NaN may give either bound, so a NaN is passed through as PyTorch's tanh passes it.
fn tanh_safe(v: f32) -> f32 {
  return select(tanh(clamp(v, -10.0, 10.0)), v, is_nan(v));
}

// ReLU that keeps a NaN a NaN (max(NaN, 0) may be 0), as PyTorch's relu does.
fn relu(v: f32) -> f32 {
  return select(max(v, 0.0), v, is_nan(v));
}

// Linear invocation index of a dispatch laid out as a 2-D grid of 1-D workgroups
// (the host splits large counts over y to stay within maxComputeWorkgroupsPerDimension).
fn linear_index(gid: vec3<u32>, groups: vec3<u32>, workgroup_size: u32) -> u32 {
  return gid.x + gid.y * groups.x * workgroup_size;
}

// acc + Σ_i w_i·x[i]: four vec4 weights (gate lanes) scaled by the four lanes of x — four k at once.
fn fma4(w0: vec4<f32>, w1: vec4<f32>, w2: vec4<f32>, w3: vec4<f32>, x: vec4<f32>, acc: vec4<f32>) -> vec4<f32> {
  return fma(w3, vec4<f32>(x.w), fma(w2, vec4<f32>(x.z), fma(w1, vec4<f32>(x.y), fma(w0, vec4<f32>(x.x), acc))));
}

// Four vectors, one per invocation 0…3 of a subgroup (lane_values in the lanes-*.wgsl headers).
struct Lanes4 {
  l0: vec4<f32>,
  l1: vec4<f32>,
  l2: vec4<f32>,
  l3: vec4<f32>,
}

// acc + w0·x.l0 + w1·x.l1 + w2·x.l2 + w3·x.l3, element by element: four vec4 FMAs with operands from
// four lanes.
fn fma_lanes(w0: vec4<f32>, w1: vec4<f32>, w2: vec4<f32>, w3: vec4<f32>, x: Lanes4, acc: vec4<f32>) -> vec4<f32> {
  return fma(w3, x.l3, fma(w2, x.l2, fma(w1, x.l1, fma(w0, x.l0, acc))));
}

// Modes, as the MODE override constant of the recurrent kernels names them.
const MODE_RNN_TANH = 0u;
const MODE_RNN_RELU = 1u;
const MODE_LSTM = 2u;
const MODE_GRU = 3u;

// One cell update, PyTorch's equations, for one unit of one batch row. Lanes are gates (LSTM i, f, g,
// o; GRU r, z, n; RNN lane 0): x = W_ih·x_t + b_ih and rec = W_hh·h_{t−1} + b_hh for this unit;
// h_prev is this unit's own h_{t−1} (GRU), c_prev its cell state (LSTM). Returns (h_t, c_t); for LSTM
// with projection h_t is o·tanh(c_t) before W_hr.
fn cell_update(mode: u32, x: vec4<f32>, rec: vec4<f32>, h_prev: f32, c_prev: f32) -> vec2<f32> {
  switch mode {
    case MODE_LSTM: {
      let pre = x + rec;
      let c = fma(sigmoid(pre.y), c_prev, sigmoid(pre.x) * tanh_safe(pre.z));
      return vec2<f32>(sigmoid(pre.w) * tanh_safe(c), c);
    }
    case MODE_GRU: {
      let r = sigmoid(x.x + rec.x);
      let z = sigmoid(x.y + rec.y);
      let n = tanh_safe(fma(r, rec.z, x.z));
      return vec2<f32>(fma(z, h_prev - n, n), 0.0);  // (1 − z)·n + z·h
    }
    case MODE_RNN_RELU: {
      return vec2<f32>(relu(x.x + rec.x), 0.0);
    }
    default: {  // MODE_RNN_TANH
      return vec2<f32>(tanh_safe(x.x + rec.x), 0.0);
    }
  }
}
