// What each step of a layer saw as its previous state, for the backward pass: h_{t−1} (D, T, B, H_out)
// and, for LSTM, c_{t−1} (D, T, B, H), written into `saved` at the offsets `dims` gives. Direction 0
// at time t saw step t − 1; direction 1 (reverse) saw t + 1; the first step of a row (t = 0, or
// t = length − 1 in reverse) saw the initial state. Past a row's length nothing ran: zeros.
// With recurrent dropout (MASKED) also what W_hh saw, scale·h_{t−1}, for W_hh's gradient, at
// dims.h_prev_masked — the scales (D, B, H_out) at dims.mask. Entry `shift`: one invocation per
// (d, t, b, k) of the wider of H_out and H. Entry `shift_vec4` (H, H_out and the offsets multiples of
// 4): VECTORS vec4s of k per invocation (elementwise.ts, vectorsPerInvocation).

override WORKGROUP_SIZE: u32 = 64u;
override HAS_C: bool = false;
override MASKED: bool = false;
override VECTORS: u32 = 1u;

struct ShiftDims {
  T: u32,
  B: u32,
  H: u32,
  H_out: u32,
  D: u32,
  h_prev: u32,   // float offsets in `saved`
  c_prev: u32,
  c: u32,        // c_t (D, T, B, H), as the training forward saved it
  mask: u32,     // MASKED: recurrent dropout's scales (D, B, H_out) …
  h_prev_masked: u32,  // … and where the scaled previous h (D, T, B, H_out) goes
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> dims: ShiftDims;
@group(0) @binding(1) var<storage, read> lengths: array<u32>;
@group(0) @binding(2) var<storage, read> output: array<f32>;     // the layer's output (T, B, D·H_out)
@group(0) @binding(3) var<storage, read> initial: array<f32>;    // the layer's initial state: h (D, B, H_out) then c (D, B, H)
@group(0) @binding(4) var<storage, read_write> saved: array<f32>;
// The same buffers as vec4s, for `shift_vec4` (an entry uses one view or the other).
@group(0) @binding(2) var<storage, read> output4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> initial4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> saved4: array<vec4<f32>>;

// Where (d, t, b) is in the saved rows, whether its step saw the initial state, which step it saw
// otherwise, and whether it ran at all (t below the row's length).
struct Step {
  e: u32,
  first: bool,
  prev: u32,
  ran: bool,
}

fn step_of(d: u32, t: u32, b: u32) -> Step {
  let len = lengths[b];
  let first = select(t == 0u, t + 1u == len, d == 1u);
  let prev = select(t - 1u, t + 1u, d == 1u);  // unused when `first`
  return Step((d * dims.T + t) * dims.B + b, first, prev, t < len);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn shift(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let width = max(dims.H_out, dims.H);
  let i = linear_index(gid, groups, WORKGROUP_SIZE);
  if (i >= dims.D * dims.T * dims.B * width) { return; }
  let k = i % width;
  let b = (i / width) % dims.B;
  let t = (i / (width * dims.B)) % dims.T;
  let d = i / (width * dims.B * dims.T);
  let s = step_of(d, t, b);
  if (k < dims.H_out) {
    var h = 0.0;
    if (s.ran) {
      h = select(output[(s.prev * dims.B + b) * dims.D * dims.H_out + d * dims.H_out + k], initial[(d * dims.B + b) * dims.H_out + k], s.first);
    }
    saved[dims.h_prev + s.e * dims.H_out + k] = h;
    if (MASKED) { saved[dims.h_prev_masked + s.e * dims.H_out + k] = h * saved[dims.mask + (d * dims.B + b) * dims.H_out + k]; }
  }
  if (HAS_C && k < dims.H) {
    var c = 0.0;
    if (s.ran) {
      c = select(saved[dims.c + ((d * dims.T + s.prev) * dims.B + b) * dims.H + k], initial[dims.D * dims.B * dims.H_out + (d * dims.B + b) * dims.H + k], s.first);
    }
    saved[dims.c_prev + s.e * dims.H + k] = c;
  }
}

// The same in vec4s: k counts vec4s here, and so do the offsets (dims' float offsets / 4).
@compute @workgroup_size(WORKGROUP_SIZE)
fn shift_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let H_out = dims.H_out / 4u;
  let H = dims.H / 4u;
  let per_row = max(H_out, H) / VECTORS;
  let i = linear_index(gid, groups, WORKGROUP_SIZE);
  if (i >= dims.D * dims.T * dims.B * per_row) { return; }
  let k0 = (i % per_row) * VECTORS;
  let b = (i / per_row) % dims.B;
  let t = (i / (per_row * dims.B)) % dims.T;
  let d = i / (per_row * dims.B * dims.T);
  let s = step_of(d, t, b);
  for (var v = 0u; v < VECTORS; v++) {
    let k = k0 + v;
    if (k < H_out) {
      var h = vec4<f32>(0.0);
      if (s.ran) {
        h = select(output4[(s.prev * dims.B + b) * dims.D * H_out + d * H_out + k], initial4[(d * dims.B + b) * H_out + k], s.first);
      }
      saved4[dims.h_prev / 4u + s.e * H_out + k] = h;
      if (MASKED) { saved4[dims.h_prev_masked / 4u + s.e * H_out + k] = h * saved4[dims.mask / 4u + (d * dims.B + b) * H_out + k]; }
    }
    if (HAS_C && k < H) {
      var c = vec4<f32>(0.0);
      if (s.ran) {
        c = select(saved4[dims.c / 4u + ((d * dims.T + s.prev) * dims.B + b) * H + k], initial4[dims.D * dims.B * H_out + (d * dims.B + b) * H + k], s.first);
      }
      saved4[dims.c_prev / 4u + s.e * H + k] = c;
    }
  }
}
