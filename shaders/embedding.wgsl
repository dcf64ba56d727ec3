// nn.Embedding, forward and backward.
// Entry `gather`: x[i, e] = table[tokens[i], e] for every position i of the batch (T·B rows).
// Entry `scatter_grad`: the table's gradient without atomics (WGSL has no float atomics), in a fixed
// order, so a run is reproducible: the host sorts the batch's positions by token (`order`, grouped per
// distinct token; group u spans order[starts[u] … starts[u + 1]) and its token is ids[u]), and one
// invocation per (distinct token u, column e) sums dx over its positions and writes
// grad[ids[u], e]. Rows of tokens absent from the batch keep the zeros the grad buffer was cleared to.

override WORKGROUP_SIZE: u32 = 64u;
// The `_vec4` entries (E and every offset multiples of 4): consecutive vec4s of a row per invocation —
// 1 on a GPU; more on a software adapter, where a workgroup is a task on a CPU core and scalar loads,
// stores and index arithmetic are what a copy costs (elementwise.ts, vectorsPerInvocation).
override VECTORS: u32 = 1u;

struct EmbeddingDims {
  rows: u32,        // gather: positions; scatter: distinct tokens
  E: u32,           // embedding_dim
  table: u32,       // float offset of the table (gather) or of its gradient (scatter)
  first: u32,       // gather: index in `tokens` of the first position's id (sampling: 1, after the cursor)
  dest: u32,        // gather: float offset of x in `dest`
  dx: u32,          // scatter: float offset of dx in `source`
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> dims: EmbeddingDims;
@group(0) @binding(1) var<storage, read> tokens: array<u32>;          // gather: ids per position; scatter: ids, starts, order (see below)
@group(0) @binding(2) var<storage, read> source: array<f32>;          // gather: the parameters; scatter: dx (positions, E)
@group(0) @binding(3) var<storage, read_write> dest: array<f32>;    // gather: x (positions, E); scatter: the gradients
// The same buffers as vec4s, for the `_vec4` entries (an entry uses one view or the other).
@group(0) @binding(2) var<storage, read> source4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dest4: array<vec4<f32>>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn gather(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups, WORKGROUP_SIZE);
  if (i >= dims.rows * dims.E) { return; }
  let row = i / dims.E;
  let e = i % dims.E;
  dest[dims.dest + i] = source[dims.table + tokens[dims.first + row] * dims.E + e];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn gather_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups, WORKGROUP_SIZE);
  let per_row = dims.E / (4u * VECTORS);
  if (i >= dims.rows * per_row) { return; }
  let row = i / per_row;
  let e = (i % per_row) * VECTORS;
  let src = (dims.table + tokens[dims.first + row] * dims.E) / 4u + e;
  let to = (dims.dest + row * dims.E) / 4u + e;
  for (var v = 0u; v < VECTORS; v++) { dest4[to + v] = source4[src + v]; }
}

// Entry `gather_last` (sampling): the one row of the last token of a sequence [cursor, t_1, …] —
// tokens[tokens[0]], the token sample.wgsl wrote last.
@compute @workgroup_size(WORKGROUP_SIZE)
fn gather_last(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = gid.x;
  if (e >= dims.E) { return; }
  dest[dims.dest + e] = source[dims.table + tokens[tokens[0]] * dims.E + e];
}

// For scatter_grad, `tokens` holds [ids (U) | starts (U + 1) | order (positions)], U = dims.rows.
@compute @workgroup_size(WORKGROUP_SIZE)
fn scatter_grad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups, WORKGROUP_SIZE);
  let U = dims.rows;
  if (i >= U * dims.E) { return; }
  let u = i / dims.E;
  let e = i % dims.E;
  var acc = 0.0;
  for (var k = tokens[U + u]; k < tokens[U + u + 1u]; k++) {
    acc += source[dims.dx + tokens[2u * U + 1u + k] * dims.E + e];
  }
  dest[dims.table + tokens[u] * dims.E + e] = acc;
}

// VECTORS (1, 2 or 4) vec4 sums per invocation, in named variables, not a private array: an array
// indexed in a loop lives in memory on a software adapter, each add a load and a store. Measured on
// SwiftShader (Chromium, the date model's two tables, 13 and 35 ids × 256 columns, each dispatch alone,
// two interleaved pairs of 7 rounds): 3.13–3.40 and 3.55–3.82 ms against 3.82–3.90 and 4.50–4.54 ms
// with the array.
@compute @workgroup_size(WORKGROUP_SIZE)
fn scatter_grad_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups, WORKGROUP_SIZE);
  let U = dims.rows;
  let per_row = dims.E / (4u * VECTORS);
  if (i >= U * per_row) { return; }
  let u = i / per_row;
  let e = (i % per_row) * VECTORS;
  let row4 = dims.E / 4u;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k = tokens[U + u]; k < tokens[U + u + 1u]; k++) {
    let src = dims.dx / 4u + tokens[2u * U + 1u + k] * row4 + e;
    acc0 += source4[src];
    if (VECTORS > 1u) { acc1 += source4[src + 1u]; }
    if (VECTORS > 2u) { acc2 += source4[src + 2u]; acc3 += source4[src + 3u]; }
  }
  let to = (dims.table + tokens[u] * dims.E) / 4u + e;
  dest4[to] = acc0;
  if (VECTORS > 1u) { dest4[to + 1u] = acc1; }
  if (VECTORS > 2u) { dest4[to + 2u] = acc2; dest4[to + 3u] = acc3; }
}
