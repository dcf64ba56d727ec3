// What each step of a layer saw as its previous state, for the backward pass: h_{t−1} (D, T, B, H_out)
// and, for LSTM, c_{t−1} (D, T, B, H), written into `saved` at the offsets `dims` gives. Direction 0
// at time t saw step t − 1; direction 1 (reverse) saw t + 1; the first step of a row (t = 0, or
// t = length − 1 in reverse) saw the initial state. Past a row's length nothing ran: zeros.
// With recurrent dropout (MASKED) also what W_hh saw, scale·h_{t−1}, for W_hh's gradient, at
// dims.h_prev_masked — the scales (D, B, H_out) at dims.mask. One invocation per (d, t, b, k) of the
// wider of H_out and H.

override WORKGROUP_SIZE: u32 = 64u;
override HAS_C: bool = false;
override MASKED: bool = false;
// Consecutive k per invocation: 1, or 4 where H_out and H are multiples of 4 (a quarter of the
// invocations and of their index arithmetic, which is most of this kernel's cost on a software adapter).
override COLUMNS: u32 = 1u;

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

@compute @workgroup_size(WORKGROUP_SIZE)
fn shift(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let width = max(dims.H_out, dims.H);
  let per_row = width / COLUMNS;
  let i = linear_index(gid, groups, WORKGROUP_SIZE);
  if (i >= dims.D * dims.T * dims.B * per_row) { return; }
  let k0 = (i % per_row) * COLUMNS;
  let b = (i / per_row) % dims.B;
  let t = (i / (per_row * dims.B)) % dims.T;
  let d = i / (per_row * dims.B * dims.T);
  let len = lengths[b];
  let first = select(t == 0u, t + 1u == len, d == 1u);
  let prev = select(t - 1u, t + 1u, d == 1u);  // unused when `first`
  let e = (d * dims.T + t) * dims.B + b;
  for (var col = 0u; col < COLUMNS; col++) {
    let k = k0 + col;
    if (k < dims.H_out) {
      var h = 0.0;
      if (t < len) {
        h = select(output[(prev * dims.B + b) * dims.D * dims.H_out + d * dims.H_out + k], initial[(d * dims.B + b) * dims.H_out + k], first);
      }
      saved[dims.h_prev + e * dims.H_out + k] = h;
      if (MASKED) { saved[dims.h_prev_masked + e * dims.H_out + k] = h * saved[dims.mask + (d * dims.B + b) * dims.H_out + k]; }
    }
    if (HAS_C && k < dims.H) {
      var c = 0.0;
      if (t < len) {
        c = select(saved[dims.c + ((d * dims.T + prev) * dims.B + b) * dims.H + k], initial[dims.D * dims.B * dims.H_out + (d * dims.B + b) * dims.H + k], first);
      }
      saved[dims.c_prev + e * dims.H + k] = c;
    }
  }
}
