// nn.Embedding, forward and backward.
// Entry `gather`: x[i, e] = table[tokens[i], e] for every position i of the batch (T·B rows).
// Entry `scatter_grad`: the table's gradient without atomics (WGSL has no float atomics), in a fixed
// order, so a run is reproducible: the host sorts the batch's positions by token (`order`, grouped per
// distinct token; group u spans order[starts[u] … starts[u + 1]) and its token is ids[u]), and one
// invocation per (distinct token u, column e) sums dx over its positions and writes
// grad[ids[u], e]. Rows of tokens absent from the batch keep the zeros the grad buffer was cleared to.

override WORKGROUP_SIZE: u32 = 64u;
// gather and scatter_grad: consecutive columns per invocation (1, or 4 where E is a multiple of 4:
// a quarter of the invocations and of their index arithmetic — the input projection's rows are 4H wide).
override COLUMNS: u32 = 1u;

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

@compute @workgroup_size(WORKGROUP_SIZE)
fn gather(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups, WORKGROUP_SIZE);
  let per_row = dims.E / COLUMNS;
  if (i >= dims.rows * per_row) { return; }
  let row = i / per_row;
  let e = (i % per_row) * COLUMNS;
  let src = dims.table + tokens[dims.first + row] * dims.E + e;
  let to = dims.dest + row * dims.E + e;
  for (var c = 0u; c < COLUMNS; c++) { dest[to + c] = source[src + c]; }
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
// The sums stay in a vector, not a private array: an array indexed in a loop lives in memory on a
// software adapter, each add a load and a store. Measured on SwiftShader (Chromium, the date model's
// two tables, 13 and 35 ids × 256 columns, each dispatch alone, two interleaved pairs of 7 rounds):
// 3.13–3.40 and 3.55–3.82 ms against 3.82–3.90 and 4.50–4.54 ms with the array.
@compute @workgroup_size(WORKGROUP_SIZE)
fn scatter_grad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups, WORKGROUP_SIZE);
  let U = dims.rows;
  let per_row = dims.E / COLUMNS;
  if (i >= U * per_row) { return; }
  let u = i / per_row;
  let e = (i % per_row) * COLUMNS;
  var acc = vec4<f32>(0.0);
  for (var k = tokens[U + u]; k < tokens[U + u + 1u]; k++) {
    let src = dims.dx + tokens[2u * U + 1u + k] * dims.E + e;
    if (COLUMNS == 4u) {
      acc += vec4<f32>(source[src], source[src + 1u], source[src + 2u], source[src + 3u]);
    } else {
      acc.x += source[src];
    }
  }
  let to = dims.table + tokens[u] * dims.E + e;
  dest[to] = acc.x;
  if (COLUMNS == 4u) {
    dest[to + 1u] = acc.y;
    dest[to + 2u] = acc.z;
    dest[to + 3u] = acc.w;
  }
}
