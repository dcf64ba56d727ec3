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
// all ROWS rows — and ROWS scalars of A, the same for every invocation of the workgroup (broadcast).
// No workgroup memory and no barriers: a software adapter runs this as straight-line code, and on a
// GPU the A loads are uniform and the W loads coalesced. Guards make any M, N, K work. With A_VEC4
// (the host sets it when K is a multiple of 4) A is read four columns per load through `a4`, a vec4
// view of the same buffer: 8 loads per 16 FMAs instead of 20.

const ROWS = 4u;  // rows of C per invocation

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

@compute @workgroup_size(WORKGROUP_SIZE)
fn matmul(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let m0 = gid.y * ROWS;
  let d = gid.z;
  if (j >= dims.N || m0 >= dims.M) { return; }
  let K = dims.K;
  let rows = min(ROWS, dims.M - m0);
  // Rows past M re-read the last row (a harmless duplicate) instead of branching in the loop.
  let a0 = d * dims.a_batch_stride + m0 * K;
  let a1 = d * dims.a_batch_stride + (m0 + min(1u, rows - 1u)) * K;
  let a2 = d * dims.a_batch_stride + (m0 + min(2u, rows - 1u)) * K;
  let a3 = d * dims.a_batch_stride + (m0 + min(3u, rows - 1u)) * K;

  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  var w_index = dims.w_offset + d * dims.w_batch_stride + j;
  var k = 0u;
  if (A_VEC4) {
    let N = dims.N;
    for (; k < K; k += 4u) {
      let w0 = param4(w_index);
      let w1 = param4(w_index + N);
      let w2 = param4(w_index + 2u * N);
      let w3 = param4(w_index + 3u * N);
      w_index += 4u * N;
      let x0 = a4[(a0 + k) / 4u];
      let x1 = a4[(a1 + k) / 4u];
      let x2 = a4[(a2 + k) / 4u];
      let x3 = a4[(a3 + k) / 4u];
      acc0 = fma4(w0, w1, w2, w3, x0, acc0);
      acc1 = fma4(w0, w1, w2, w3, x1, acc1);
      acc2 = fma4(w0, w1, w2, w3, x2, acc2);
      acc3 = fma4(w0, w1, w2, w3, x3, acc3);
    }
  }
  for (; k < K; k++) {
    let wk = param4(w_index);
    w_index += dims.N;
    acc0 = fma(wk, vec4<f32>(a[a0 + k]), acc0);
    acc1 = fma(wk, vec4<f32>(a[a1 + k]), acc1);
    acc2 = fma(wk, vec4<f32>(a[a2 + k]), acc2);
    acc3 = fma(wk, vec4<f32>(a[a3 + k]), acc3);
  }

  let b = param4(dims.bias_offset + d * dims.bias_batch_stride + j);
  let c0 = d * dims.c_batch_stride + m0 * dims.N + j;
  c[c0] = acc0 + b;
  if (rows > 1u) { c[c0 + dims.N] = acc1 + b; }
  if (rows > 2u) { c[c0 + 2u * dims.N] = acc2 + b; }
  if (rows > 3u) { c[c0 + 3u * dims.N] = acc3 + b; }
}
