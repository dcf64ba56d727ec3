// nn.Embedding, forward and backward.
// Entry `gather`: x[i, e] = table[tokens[i], e] for every position i of the batch (T·B rows).
// Entry `scatter_grad`: the table's gradient without atomics (WGSL has no float atomics), in a fixed
// order, so a run is reproducible: the host sorts the batch's positions by token (`order`, grouped per
// distinct token; group u spans order[starts[u] … starts[u + 1]) and its token is ids[u]), and one
// invocation per (distinct token u, column e) sums dx over its positions and writes
// grad[ids[u], e]. Rows of tokens absent from the batch keep the zeros the grad buffer was cleared to.

override WORKGROUP_SIZE: u32 = 64u;

struct EmbeddingDims {
  rows: u32,        // gather: positions; scatter: distinct tokens
  E: u32,           // embedding_dim
  table: u32,       // float offset of the table (gather) or of its gradient (scatter)
  first: u32,       // gather: index in `tokens` of the first position's id (sampling: 1, after the cursor)
}

@group(0) @binding(0) var<uniform> dims: EmbeddingDims;
@group(0) @binding(1) var<storage, read> tokens: array<u32>;          // gather: ids per position; scatter: ids, starts, order (see below)
@group(0) @binding(2) var<storage, read> source: array<f32>;          // gather: the parameters; scatter: dx (positions, E)
@group(0) @binding(3) var<storage, read_write> dest: array<f32>;    // gather: x (positions, E); scatter: the gradients

@compute @workgroup_size(WORKGROUP_SIZE)
fn gather(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups, WORKGROUP_SIZE);
  if (i >= dims.rows * dims.E) { return; }
  let row = i / dims.E;
  let e = i % dims.E;
  dest[i] = source[dims.table + tokens[dims.first + row] * dims.E + e];
}

// Entry `gather_last` (sampling): the one row of the last token of a sequence [cursor, t_1, …] —
// tokens[tokens[0]], the token sample.wgsl wrote last.
@compute @workgroup_size(WORKGROUP_SIZE)
fn gather_last(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = gid.x;
  if (e >= dims.E) { return; }
  dest[e] = source[dims.table + tokens[tokens[0]] * dims.E + e];
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
    acc += source[tokens[2u * U + 1u + k] * dims.E + e];
  }
  dest[dims.table + tokens[u] * dims.E + e] = acc;
}
