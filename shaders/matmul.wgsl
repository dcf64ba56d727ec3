// Batched affine map onto gate-interleaved outputs — the input projection of all time steps at once:
//
//   C[d, m, j] = bias[d, j] + Σ_k A[d, m, k] · W[d, k, j]        (C, bias, W elements are vec4)
//
// Lane g of a vec4 is gate g of hidden unit j (LSTM i,f,g,o; GRU r,z,n; RNN one lane), so
// A = layer input (T·B, I) shared by both directions (a_batch_stride = 0), W = W_ih packed
// (D, I, H, 4), bias = b_ih packed (D, H, 4), C = gate pre-activations (D, T·B, H, 4). W and bias
// live in one buffer (`params`, a layer's packed weights) at the offsets the uniform gives.
//
// Work split: invocation (j, block of ROWS rows m, d) keeps ROWS vec4 accumulators in registers;
// for each k it loads one vec4 of W — contiguous across the workgroup's consecutive j, and reused for
// all ROWS rows — and the ROWS values of A, the same for every invocation of the workgroup. No
// workgroup memory and no barriers: a software adapter runs this as straight-line code, and on a GPU
// the W loads are coalesced. Guards make any M, N, K work. With A_VEC4 (the host sets it when K is a
// multiple of 4) A is read four columns per load through `a4`, a vec4 view of the same buffer, and
// with SUBGROUPS (lanes-*.wgsl) each invocation of a subgroup loads one or two of the rows and
// shuffles them to the others: 4 W loads and 2 A loads per 32 vec4 FMAs. Measured on SwiftShader,
// 1024×512·512×1024: 1.99 vs 1.12 GFLOP/s for 4 rows without subgroups (same run).

const ROWS = 8u;  // rows of C per invocation

override WORKGROUP_SIZE: u32 = 64u;
override A_VEC4: bool = false;  // K % 4 == 0 and A rows start 16-byte aligned

struct MatmulDims {
  M: u32,                 // rows of A and C (T·B)
  N: u32,                 // vec4 columns of C (hidden units)
  K: u32,                 // columns of A (input features)
  a_batch_stride: u32,    // f32 elements between A[d] and A[d + 1] (0: A shared by all d)
  w_offset: u32,          // vec4 index of W in `params`
  w_batch_stride: u32,    // vec4 elements between W[d] and W[d + 1]
  bias_offset: u32,       // vec4 index of the bias in `params`
  bias_batch_stride: u32, // vec4 elements
  c_batch_stride: u32,    // vec4 elements
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> dims: MatmulDims;
@group(0) @binding(1) var<storage, read> a: array<f32>;              // (·, M, K)
@group(0) @binding(2) var<storage, read> params: array<weight4>;   // W (D, K, N) and bias (D, N) at their offsets
@group(0) @binding(3) var<storage, read_write> c: array<vec4<f32>>;  // (D, M, N)
@group(0) @binding(4) var<storage, read> a4: array<vec4<f32>>;       // A again, as vec4 (A_VEC4)

// One packed weight element, widened to f32 (see the weights-*.wgsl headers).
fn param4(i: u32) -> vec4<f32> {
  return widen4(params[i]);
}

// Start of row m0 + r of A (f32 index), rows past M clamped to the last one (a harmless duplicate,
// never stored).
fn a_row(d: u32, m0: u32, rows: u32, r: u32) -> u32 {
  return d * dims.a_batch_stride + (m0 + min(r, rows - 1u)) * dims.K;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn matmul(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  // Rows and direction come from the workgroup, so every branch below on them is uniform (the
  // subgroup shuffles need that); columns past N compute on a clamped column and store nothing.
  let lane = subgroup_lane();
  let j = gid.x;
  let m0 = wid.y * ROWS;
  let d = wid.z;
  if (m0 >= dims.M) { return; }
  let K = dims.K;
  let N = dims.N;
  let rows = min(ROWS, dims.M - m0);
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  var acc4 = vec4<f32>(0.0);
  var acc5 = vec4<f32>(0.0);
  var acc6 = vec4<f32>(0.0);
  var acc7 = vec4<f32>(0.0);
  var w_index = dims.w_offset + d * dims.w_batch_stride + min(j, N - 1u);
  var k = 0u;
  if (A_VEC4) {
    // Rows (lane mod 4) and 4 + (lane mod 4): what this invocation loads for its subgroup.
    let own_lo = a_row(d, m0, rows, lane % 4u);
    let own_hi = a_row(d, m0, rows, 4u + lane % 4u);
    for (; k < K; k += 4u) {
      let w0 = param4(w_index);
      let w1 = param4(w_index + N);
      let w2 = param4(w_index + 2u * N);
      let w3 = param4(w_index + 3u * N);
      w_index += 4u * N;
      var x0: vec4<f32>;
      var x1: vec4<f32>;
      var x2: vec4<f32>;
      var x3: vec4<f32>;
      var x4: vec4<f32>;
      var x5: vec4<f32>;
      var x6: vec4<f32>;
      var x7: vec4<f32>;
      if (SUBGROUPS) {
        let lo = lane_values(a4[(own_lo + k) / 4u]);
        let hi = lane_values(a4[(own_hi + k) / 4u]);
        x0 = lo.l0;
        x1 = lo.l1;
        x2 = lo.l2;
        x3 = lo.l3;
        x4 = hi.l0;
        x5 = hi.l1;
        x6 = hi.l2;
        x7 = hi.l3;
      } else {
        x0 = a4[(a_row(d, m0, rows, 0u) + k) / 4u];
        x1 = a4[(a_row(d, m0, rows, 1u) + k) / 4u];
        x2 = a4[(a_row(d, m0, rows, 2u) + k) / 4u];
        x3 = a4[(a_row(d, m0, rows, 3u) + k) / 4u];
        x4 = a4[(a_row(d, m0, rows, 4u) + k) / 4u];
        x5 = a4[(a_row(d, m0, rows, 5u) + k) / 4u];
        x6 = a4[(a_row(d, m0, rows, 6u) + k) / 4u];
        x7 = a4[(a_row(d, m0, rows, 7u) + k) / 4u];
      }
      acc0 = fma4(w0, w1, w2, w3, x0, acc0);
      acc1 = fma4(w0, w1, w2, w3, x1, acc1);
      acc2 = fma4(w0, w1, w2, w3, x2, acc2);
      acc3 = fma4(w0, w1, w2, w3, x3, acc3);
      acc4 = fma4(w0, w1, w2, w3, x4, acc4);
      acc5 = fma4(w0, w1, w2, w3, x5, acc5);
      acc6 = fma4(w0, w1, w2, w3, x6, acc6);
      acc7 = fma4(w0, w1, w2, w3, x7, acc7);
    }
  }
  for (; k < K; k++) {
    let wk = param4(w_index);
    w_index += N;
    acc0 = fma(wk, vec4<f32>(a[a_row(d, m0, rows, 0u) + k]), acc0);
    acc1 = fma(wk, vec4<f32>(a[a_row(d, m0, rows, 1u) + k]), acc1);
    acc2 = fma(wk, vec4<f32>(a[a_row(d, m0, rows, 2u) + k]), acc2);
    acc3 = fma(wk, vec4<f32>(a[a_row(d, m0, rows, 3u) + k]), acc3);
    acc4 = fma(wk, vec4<f32>(a[a_row(d, m0, rows, 4u) + k]), acc4);
    acc5 = fma(wk, vec4<f32>(a[a_row(d, m0, rows, 5u) + k]), acc5);
    acc6 = fma(wk, vec4<f32>(a[a_row(d, m0, rows, 6u) + k]), acc6);
    acc7 = fma(wk, vec4<f32>(a[a_row(d, m0, rows, 7u) + k]), acc7);
  }

  if (j >= N) { return; }
  let b = param4(dims.bias_offset + d * dims.bias_batch_stride + j);
  let c0 = d * dims.c_batch_stride + m0 * N + j;
  c[c0] = acc0 + b;
  if (rows > 1u) { c[c0 + N] = acc1 + b; }
  if (rows > 2u) { c[c0 + 2u * N] = acc2 + b; }
  if (rows > 3u) { c[c0 + 3u * N] = acc3 + b; }
  if (rows > 4u) { c[c0 + 4u * N] = acc4 + b; }
  if (rows > 5u) { c[c0 + 5u * N] = acc5 + b; }
  if (rows > 6u) { c[c0 + 6u * N] = acc6 + b; }
  if (rows > 7u) { c[c0 + 7u * N] = acc7 + b; }
}
