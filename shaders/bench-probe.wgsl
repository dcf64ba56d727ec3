// Benchmark probe: a kernel that does (almost) nothing, dispatched many times in one pass to measure
// what one dispatch costs on this adapter. It writes one word so no backend can elide the dispatch.

@group(0) @binding(0) var<storage, read_write> sink: array<u32>;

@compute @workgroup_size(1)
fn empty() {
  sink[0] = sink[0] + 1u;
}
