// The losses on the GPU, forward and backward in one pass, one invocation per row (a position of the
// model's output, O values): dy = dL/dy for every element, and each row's share of the loss in
// `row_loss` (summed afterwards by reduce.wgsl).
// Entry `mse`: row_loss = Σ (y − target)² / N, dy = 2(y − target) / N, N = all elements.
// Entry `cross_entropy` (and `cross_entropy_vec4` where O is a multiple of 4): with target class c
//   (−100: the row is ignored: no loss, dy = 0), row_loss = (logsumexp(y) − y[c]) / N,
//   dy = (softmax(y) − onehot(c)) / N, N = rows not ignored (given by the host, which knows the
//   targets); softmax taken with the row's max subtracted, so large logits cannot overflow.

override WORKGROUP_SIZE: u32 = 64u;

struct LossDims {
  rows: u32,
  O: u32,
  scale: f32,    // 1/N
  _pad: u32,
}

@group(0) @binding(0) var<uniform> dims: LossDims;
@group(0) @binding(1) var<storage, read> y: array<f32>;              // (rows, O)
@group(0) @binding(2) var<storage, read> targets: array<f32>;        // mse: (rows, O)
@group(0) @binding(3) var<storage, read> classes: array<i32>;        // cross_entropy: (rows)
@group(0) @binding(4) var<storage, read_write> dy: array<f32>;       // (rows, O)
@group(0) @binding(5) var<storage, read_write> row_loss: array<f32>; // (rows)

@compute @workgroup_size(WORKGROUP_SIZE)
fn mse(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let r = linear_index(gid, groups, WORKGROUP_SIZE);
  if (r >= dims.rows) { return; }
  var sum = 0.0;
  for (var o = 0u; o < dims.O; o++) {
    let i = r * dims.O + o;
    let e = y[i] - targets[i];
    sum = fma(e, e, sum);
    dy[i] = 2.0 * e * dims.scale;
  }
  row_loss[r] = sum * dims.scale;
}

// An ignored row adds nothing — unless no row counts (scale = 1/0): then PyTorch's mean is 0/0, and
// every row's share is NaN so the sum is. The NaN is written as bits (a compiler may take 0·∞ for 0,
// and a constant NaN is no WGSL value); they depend on `scale` only to be a run-time value.
fn ignored_row_loss() -> f32 {
  let scale_bits = bitcast<u32>(dims.scale);
  let no_row_counts = (scale_bits & 0x7fffffffu) == 0x7f800000u;
  return select(0.0, bitcast<f32>(0x7fc00000u | (scale_bits & 0x80000000u)), no_row_counts);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn cross_entropy(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let r = linear_index(gid, groups, WORKGROUP_SIZE);
  if (r >= dims.rows) { return; }
  let c = classes[r];
  let base = r * dims.O;
  if (c < 0) {
    for (var o = 0u; o < dims.O; o++) { dy[base + o] = 0.0; }
    row_loss[r] = ignored_row_loss();
    return;
  }
  var m = y[base];
  for (var o = 1u; o < dims.O; o++) { m = max(m, y[base + o]); }
  var z = 0.0;
  for (var o = 0u; o < dims.O; o++) { z += exp(y[base + o] - m); }
  let log_z = log(z) + m;
  for (var o = 0u; o < dims.O; o++) {
    dy[base + o] = (exp(y[base + o] - log_z) - select(0.0, 1.0, o == u32(c))) * dims.scale;
  }
  row_loss[r] = (log_z - y[base + u32(c)]) * dims.scale;
}

// The same where O is a multiple of 4: the row as vec4s, each lane a running max and sum of its own
// columns, the four folded at the end.
@group(0) @binding(1) var<storage, read> y4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> dy4: array<vec4<f32>>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn cross_entropy_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let r = linear_index(gid, groups, WORKGROUP_SIZE);
  if (r >= dims.rows) { return; }
  let c = classes[r];
  let O4 = dims.O / 4u;
  let base = r * O4;
  if (c < 0) {
    for (var o = 0u; o < O4; o++) { dy4[base + o] = vec4<f32>(0.0); }
    row_loss[r] = ignored_row_loss();
    return;
  }
  var m4 = y4[base];
  for (var o = 1u; o < O4; o++) { m4 = max(m4, y4[base + o]); }
  let m = max(max(m4.x, m4.y), max(m4.z, m4.w));
  var z4 = vec4<f32>(0.0);
  for (var o = 0u; o < O4; o++) { z4 += exp(y4[base + o] - m); }
  let log_z = log((z4.x + z4.y) + (z4.z + z4.w)) + m;
  let class4 = vec4<u32>(u32(c));
  for (var o = 0u; o < O4; o++) {
    let onehot = select(vec4<f32>(0.0), vec4<f32>(1.0), vec4<u32>(4u * o) + vec4<u32>(0u, 1u, 2u, 3u) == class4);
    dy4[base + o] = (exp(y4[base + o] - log_z) - onehot) * dims.scale;
  }
  row_loss[r] = (log_z - y4[base + u32(c) / 4u][u32(c) % 4u]) * dims.scale;
}
