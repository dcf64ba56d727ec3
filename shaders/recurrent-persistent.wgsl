// A whole layer in one dispatch: the time loop runs inside a single workgroup, with h kept in
// workgroup memory and a workgroupBarrier() between steps, so a sequence costs one dispatch per layer
// instead of 1 + T. For shapes whose state fits one workgroup (small H·B: the on-device case).
//
// Per step s, every unit (d, b, j) of D·B·H — invocation lid owns units lid, lid + WORKGROUP_SIZE, … —
// computes its own input projection W_ih·x_t + b_ih (no separate matmul), the recurrent term
// W_hh·h_{t−1} + b_hh from the h held in workgroup memory, and the cell update (prelude's
// cell_update). Direction 0 runs t = s, direction 1 (reverse) t = T−1−s; a row with t ≥ lengths[b]
// keeps its state and outputs zero (packed-sequence semantics), as in the per-step kernel.
//
// Workgroup memory `shared_f` (SHARED_FLOATS f32): h double-buffered — (D, B, H_out) at 0 and at
// n_h = D·B·H_out, read one, written the other, swapped every step so one barrier a step suffices —
// then, with projection, h_raw (D, B, H) at 2·n_h. The host checks 2·n_h (+ D·B·H) ≤ SHARED_FLOATS.
// Cell state c stays in the `state` buffer: each unit's c is read and written only by its owner.
// `state` holds h (D, B, H_out) then c (D, B, H) (LSTM); it is read at the start and holds the final
// state at the end. Weights are the layer's packed `params` (gate-interleaved vec4, see
// src/gpu/layer-weights.ts) at the offsets the uniform gives.

override MODE: u32 = MODE_LSTM;
override HAS_PROJ: bool = false;
override WORKGROUP_SIZE: u32 = 256u;
// true: compute W_ih·x_t + b_ih inside the loop (1 dispatch per layer); false: read it from `gx`,
// precomputed for all steps by the matmul kernel (2 dispatches per layer, less serial work).
override INLINE_INPUT: bool = true;

const SHARED_FLOATS = 4096u;  // 16 KiB: the minimum maxComputeWorkgroupStorageSize WebGPU guarantees

struct PersistentDims {
  T: u32,
  B: u32,
  H: u32,
  H_out: u32,
  D: u32,
  I: u32,            // layer input features
  w_ih_offset: u32,  // vec4 indices into `params`
  b_ih_offset: u32,
  w_hh_offset: u32,
  b_hh_offset: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> dims: PersistentDims;
@group(0) @binding(1) var<storage, read> lengths: array<u32>;        // (B)
@group(0) @binding(2) var<storage, read> x: array<f32>;              // (T, B, I) layer input
@group(0) @binding(3) var<storage, read> params: array<weight4>;   // packed W_ih, b_ih, W_hh, b_hh
@group(0) @binding(4) var<storage, read_write> out: array<f32>;      // (T, B, D·H_out)
@group(0) @binding(5) var<storage, read> w_hr: array<weight2>;           // (D, P, H)
@group(0) @binding(6) var<storage, read_write> state: array<f32>;    // h (D, B, H_out) then c (D, B, H)
@group(0) @binding(7) var<storage, read> gx: array<vec4<f32>>;       // (D, T, B, H) W_ih·x + b_ih, when !INLINE_INPUT

var<workgroup> shared_f: array<f32, SHARED_FLOATS>;

// One packed weight element, widened to f32 (see the weights-*.wgsl headers).
fn param4(i: u32) -> vec4<f32> {
  return widen4(params[i]);
}

// Element i of W_hr (stored two to a weight2).
fn w_hr_at(i: u32) -> f32 {
  let pair = widen2(w_hr[i / 2u]);
  return select(pair.x, pair.y, (i & 1u) == 1u);
}

fn time_at(d: u32, s: u32) -> u32 {
  return select(s, dims.T - 1u - s, d == 1u);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn persistent(@builtin(local_invocation_index) lid: u32) {
  let T = dims.T;
  let B = dims.B;
  let H = dims.H;
  let K = dims.H_out;
  let D = dims.D;
  let I = dims.I;
  let n_h = D * B * K;
  let units = D * B * H;
  let raw = 2u * n_h;  // h_raw region (projection only)

  for (var e = lid; e < n_h; e += WORKGROUP_SIZE) { shared_f[e] = state[e]; }
  workgroupBarrier();

  for (var s = 0u; s < T; s++) {
    let cur = (s % 2u) * n_h;  // h_{t−1} here …
    let nxt = n_h - cur;       // … h_t there
    for (var u = lid; u < units; u += WORKGROUP_SIZE) {
      let j = u % H;
      let b = (u / H) % B;
      let d = u / (B * H);
      let t = time_at(d, s);
      let valid = t < lengths[b];

      var xp: vec4<f32>;
      if (INLINE_INPUT) {
        xp = param4(dims.b_ih_offset + d * H + j);
        var wi = dims.w_ih_offset + d * I * H + j;
        let x_row = (t * B + b) * I;
        for (var k = 0u; k < I; k++) {
          xp = fma(param4(wi), vec4<f32>(x[x_row + k]), xp);
          wi += H;
        }
      } else {
        xp = gx[((d * T + t) * B + b) * H + j];
      }
      // W_hh·h_{t−1}, four k at a time into independent accumulators (shorter dependency chains).
      var wh = dims.w_hh_offset + d * K * H + j;
      let h_row = cur + (d * B + b) * K;
      var r0 = param4(dims.b_hh_offset + d * H + j);
      var r1 = vec4<f32>(0.0);
      var r2 = vec4<f32>(0.0);
      var r3 = vec4<f32>(0.0);
      var k = 0u;
      for (; k + 4u <= K; k += 4u) {
        r0 = fma(param4(wh), vec4<f32>(shared_f[h_row + k]), r0);
        r1 = fma(param4(wh + H), vec4<f32>(shared_f[h_row + k + 1u]), r1);
        r2 = fma(param4(wh + 2u * H), vec4<f32>(shared_f[h_row + k + 2u]), r2);
        r3 = fma(param4(wh + 3u * H), vec4<f32>(shared_f[h_row + k + 3u]), r3);
        wh += 4u * H;
      }
      for (; k < K; k++) {
        r0 = fma(param4(wh), vec4<f32>(shared_f[h_row + k]), r0);
        wh += H;
      }
      let rec = (r0 + r1) + (r2 + r3);

      let c_index = n_h + (d * B + b) * H + j;
      var c_prev = 0.0;
      if (MODE == MODE_LSTM) { c_prev = state[c_index]; }
      var h_prev = 0.0;
      if (!HAS_PROJ) { h_prev = shared_f[h_row + j]; }  // K = H without projection
      let hc = cell_update(MODE, xp, rec, h_prev, c_prev);
      if (MODE == MODE_LSTM) { state[c_index] = select(c_prev, hc.y, valid); }
      if (HAS_PROJ) {
        shared_f[raw + (d * B + b) * H + j] = hc.x;
      } else {
        shared_f[nxt + (d * B + b) * K + j] = select(h_prev, hc.x, valid);
        out[(t * B + b) * D * K + d * K + j] = select(0.0, hc.x, valid);
      }
    }
    if (HAS_PROJ) {
      workgroupBarrier();  // every h_raw of this step is written
      for (var u = lid; u < n_h; u += WORKGROUP_SIZE) {
        let p = u % K;
        let b = (u / K) % B;
        let d = u / (B * K);
        let t = time_at(d, s);
        let valid = t < lengths[b];
        var acc = 0.0;
        let w_row = (d * K + p) * H;
        let r_row = raw + (d * B + b) * H;
        for (var k = 0u; k < H; k++) { acc = fma(w_hr_at(w_row + k), shared_f[r_row + k], acc); }
        shared_f[nxt + u] = select(shared_f[cur + u], acc, valid);
        out[(t * B + b) * D * K + d * K + p] = select(0.0, acc, valid);
      }
    }
    workgroupBarrier();  // h_t complete before anyone reads it as h_{t−1}
  }

  let last = (T % 2u) * n_h;
  for (var e = lid; e < n_h; e += WORKGROUP_SIZE) { state[e] = shared_f[last + e]; }
}
