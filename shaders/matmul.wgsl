// Batched affine map, the shape of nn.Linear:   C[d, m, n] = bias[d, n] + Σ_k A[d, m, k] · W[d, n, k]
//
// Used for the input projection of every time step at once: A = layer input (T·B, I) shared by both
// directions (a_batch_stride = 0), W = weight_ih per direction (G·H, I), C = gate pre-activations
// (D, T·B, G·H). W is read as stored by PyTorch (row n holds the weights of output n).
//
// Work split: a workgroup of 8×8 invocations owns a 32×32 tile of C for one batch entry d
// (workgroup_id.z); each invocation accumulates a 4×4 block in registers. A and W tiles of depth
// TILE_K are staged in workgroup memory (2 × 32 × 16 f32 = 4 KiB), each element loaded from global
// memory once per workgroup. Out-of-range rows/columns load zeros and store nothing, so any M, N, K
// works. Bias is always bound (zeros when the model has none).

const TILE = 32u;      // rows and columns of C per workgroup
const TILE_K = 16u;    // depth of one staged slice of A and W
const BLOCK = 4u;      // rows and columns of C per invocation
const THREADS = 8u;    // TILE / BLOCK invocations along each axis

struct MatmulDims {
  M: u32,
  N: u32,
  K: u32,
  a_batch_stride: u32,    // elements between A[d] and A[d + 1] (0: A shared by all d)
  w_batch_stride: u32,
  bias_batch_stride: u32,
  c_batch_stride: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> dims: MatmulDims;
@group(0) @binding(1) var<storage, read> a: array<f32>;        // (·, M, K)
@group(0) @binding(2) var<storage, read> w: array<f32>;        // (D, N, K)
@group(0) @binding(3) var<storage, read> bias: array<f32>;     // (D, N)
@group(0) @binding(4) var<storage, read_write> c: array<f32>;  // (D, M, N)

var<workgroup> a_tile: array<f32, 512>;  // TILE × TILE_K, row-major
var<workgroup> w_tile: array<f32, 512>;  // TILE × TILE_K, row-major

@compute @workgroup_size(8, 8, 1)
fn matmul(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
          @builtin(local_invocation_index) lindex: u32) {
  let d = wg.z;
  let row0 = wg.y * TILE;
  let col0 = wg.x * TILE;
  let a_base = d * dims.a_batch_stride;
  let w_base = d * dims.w_batch_stride;

  var acc: array<array<f32, 4>, 4>;
  for (var k0 = 0u; k0 < dims.K; k0 += TILE_K) {
    // Stage: 64 invocations each load 8 elements of each tile.
    for (var e = lindex; e < TILE * TILE_K; e += THREADS * THREADS) {
      let r = e / TILE_K;
      let kk = k0 + e % TILE_K;
      let m = row0 + r;
      let n = col0 + r;
      var a_value = 0.0;
      if (m < dims.M && kk < dims.K) { a_value = a[a_base + m * dims.K + kk]; }
      a_tile[e] = a_value;
      var w_value = 0.0;
      if (n < dims.N && kk < dims.K) { w_value = w[w_base + n * dims.K + kk]; }
      w_tile[e] = w_value;
    }
    workgroupBarrier();
    for (var k = 0u; k < TILE_K; k++) {
      var a_reg: array<f32, 4>;
      var w_reg: array<f32, 4>;
      for (var i = 0u; i < BLOCK; i++) {
        a_reg[i] = a_tile[(lid.y * BLOCK + i) * TILE_K + k];
        w_reg[i] = w_tile[(lid.x * BLOCK + i) * TILE_K + k];
      }
      for (var i = 0u; i < BLOCK; i++) {
        for (var j = 0u; j < BLOCK; j++) {
          acc[i][j] = fma(a_reg[i], w_reg[j], acc[i][j]);
        }
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < BLOCK; i++) {
    let m = row0 + lid.y * BLOCK + i;
    for (var j = 0u; j < BLOCK; j++) {
      let n = col0 + lid.x * BLOCK + j;
      if (m < dims.M && n < dims.N) {
        c[d * dims.c_batch_stride + m * dims.N + n] = acc[i][j] + bias[d * dims.bias_batch_stride + n];
      }
    }
  }
}
