// Benchmark probe: a kernel that does (almost) nothing, dispatched many times in one pass to measure
// what one dispatch costs on this adapter. It writes one word so no backend can elide the dispatch.

@group(0) @binding(0) var<storage, read_write> sink: array<u32>;

@compute @workgroup_size(1)
fn empty() {
  sink[0] = sink[0] + 1u;
}

// Read bandwidth: invocation i sums the vec4s i, i + n, i + 2n, … of `stream_in` (n invocations in all,
// so a workgroup reads consecutive vec4s at each step) and writes its sum, which keeps the loads alive.
// A kernel bound by loads (the bias gradient's M = 1 GEMM: one multiply-add per element it loads) is
// measured against this, not against the GEMM's FLOP/s.
override STREAM_WORKGROUP: u32 = 64u;
@group(0) @binding(1) var<storage, read> stream_in: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> stream_out: array<vec4<f32>>;

@compute @workgroup_size(STREAM_WORKGROUP)
fn stream(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let n = groups.x * STREAM_WORKGROUP;
  var acc = vec4<f32>(0.0);
  for (var i = gid.x; i < arrayLength(&stream_in); i += n) { acc += stream_in[i]; }
  stream_out[gid.x] = acc;
}

// Write bandwidth: invocation i stores the vec4s i, i + n, i + 2n, … of `fill_out` (n invocations in
// all), eight per pass of its loop — the way a GEMM's epilogue stores its tile, row after row. A GEMM
// whose output outweighs its arithmetic (an input projection with K ≤ 16) is measured against this.
@group(0) @binding(3) var<storage, read_write> fill_out: array<vec4<f32>>;

@compute @workgroup_size(STREAM_WORKGROUP)
fn fill(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let n = groups.x * STREAM_WORKGROUP;
  let v = vec4<f32>(f32(gid.x));
  for (var i = gid.x; i + 7u * n < arrayLength(&fill_out); i += 8u * n) {
    fill_out[i] = v;
    fill_out[i + n] = v;
    fill_out[i + 2u * n] = v;
    fill_out[i + 3u * n] = v;
    fill_out[i + 4u * n] = v;
    fill_out[i + 5u * n] = v;
    fill_out[i + 6u * n] = v;
    fill_out[i + 7u * n] = v;
  }
}
