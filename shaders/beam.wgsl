// One step of beam search (src/train/decode.ts has the rules and the float64 reference), one workgroup
// per source row b, hypotheses as slots r = b·K + k:
//   log-softmax of each live slot's logits (V), every extension (k, v) scored scores[r] + log p(v);
//   the best K in the order (score ↓, k ↑, v ↑), found in K passes — pass j takes the best candidate
//   that comes after pass j−1's in that order, so nothing is excluded by a list;
//   those ending in eos join the row's finished list (score, step, parent slot), the rest become the
//   next live slots in order (their token, parent, score; the next step's input id; the row each
//   slot's state comes from), the slots left over are dead (score DEAD, eos, their own row);
//   the row stops when no slot is live, K have finished, or max_length tokens are made — a stopped
//   row's later steps change nothing (its slots keep their own states).
// `counters` per row: the step t, stopped (0 / 1), finished count, the step it stopped at.

override WORKGROUP_SIZE: u32 = 64u;
override MAX_BEAM: u32 = 16u;

const DEAD: f32 = -3.0e38;   // the score of a slot that holds no hypothesis

struct BeamDims {
  B: u32,
  K: u32,
  V: u32,
  eos: u32,
  max_length: u32,
  finished_cap: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> dims: BeamDims;
@group(0) @binding(1) var<storage, read> logits: array<f32>;               // (B·K, V)
@group(0) @binding(2) var<storage, read_write> scores: array<f32>;         // (B·K) summed log-probabilities
@group(0) @binding(3) var<storage, read_write> counters: array<u32>;       // (B, 4)
@group(0) @binding(4) var<storage, read_write> finished: array<u32>;       // (B, finished_cap, 3): score bits, t, parent
@group(0) @binding(5) var<storage, read_write> tokens_hist: array<u32>;    // (max_length, B·K)
@group(0) @binding(6) var<storage, read_write> parents_hist: array<u32>;   // (max_length, B·K)
@group(0) @binding(7) var<storage, read_write> next_ids: array<u32>;       // (B·K) the next step's input
@group(0) @binding(8) var<storage, read_write> gather: array<u32>;         // (B·K) the row each slot's state comes from

var<workgroup> lse: array<f32, MAX_BEAM>;
var<workgroup> red_s: array<f32, WORKGROUP_SIZE>;
var<workgroup> red_i: array<u32, WORKGROUP_SIZE>;
var<workgroup> chosen_s: array<f32, MAX_BEAM>;
var<workgroup> chosen_i: array<u32, MAX_BEAM>;
var<workgroup> stopped_flag: u32;
var<workgroup> next_scores: array<f32, MAX_BEAM>;

// (s, i) comes before (t, j): a higher score, or the same and a lower candidate index (k·V + v).
fn before(s: f32, i: u32, t: f32, j: u32) -> bool {
  return s > t || (s == t && i < j);
}

fn reduce_max(v: f32, lid: u32) -> f32 {
  red_s[lid] = v;
  workgroupBarrier();
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) { red_s[lid] = max(red_s[lid], red_s[lid + stride]); }
    workgroupBarrier();
  }
  let r = red_s[0];
  workgroupBarrier();
  return r;
}

fn reduce_sum(v: f32, lid: u32) -> f32 {
  red_s[lid] = v;
  workgroupBarrier();
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) { red_s[lid] = red_s[lid] + red_s[lid + stride]; }
    workgroupBarrier();
  }
  let r = red_s[0];
  workgroupBarrier();
  return r;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn beam_select(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = wid.x;
  if (b >= dims.B) { return; }
  let K = dims.K;
  let V = dims.V;
  let first = b * K;
  if (lid == 0u) { stopped_flag = counters[b * 4u + 1u]; }
  if (workgroupUniformLoad(&stopped_flag) != 0u) {
    if (lid < K) { gather[first + lid] = first + lid; }
    return;
  }
  let t = counters[b * 4u];

  // log Σ exp of each slot's logits (dead slots too: their result is never read).
  for (var k = 0u; k < K; k++) {
    let row = (first + k) * V;
    var m = -3.4e38;
    for (var v = lid; v < V; v += WORKGROUP_SIZE) { m = max(m, logits[row + v]); }
    m = reduce_max(m, lid);
    var z = 0.0;
    for (var v = lid; v < V; v += WORKGROUP_SIZE) { z += exp(logits[row + v] - m); }
    z = reduce_sum(z, lid);
    if (lid == 0u) { lse[k] = m + log(z); }
  }
  workgroupBarrier();

  // K passes, each the best candidate after the previous one.
  var prev_s = 3.4e38;
  var prev_i = 0u;
  for (var j = 0u; j < K; j++) {
    var best_s = DEAD;
    var best_i = 0xffffffffu;
    for (var c = lid; c < K * V; c += WORKGROUP_SIZE) {
      let k = c / V;
      let base = scores[first + k];
      if (base <= DEAD) { continue; }
      let s = base + logits[(first + k) * V + c % V] - lse[k];
      if (before(prev_s, prev_i, s, c) && before(s, c, best_s, best_i)) {
        best_s = s;
        best_i = c;
      }
    }
    red_s[lid] = best_s;
    red_i[lid] = best_i;
    workgroupBarrier();
    for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride = stride / 2u) {
      if (lid < stride && before(red_s[lid + stride], red_i[lid + stride], red_s[lid], red_i[lid])) {
        red_s[lid] = red_s[lid + stride];
        red_i[lid] = red_i[lid + stride];
      }
      workgroupBarrier();
    }
    prev_s = red_s[0];
    prev_i = red_i[0];
    if (lid == 0u) {
      chosen_s[j] = prev_s;
      chosen_i[j] = prev_i;
    }
    workgroupBarrier();
  }

  if (lid != 0u) { return; }
  // The chosen, in order: finished or the next live slots.

  var live = 0u;
  var n_finished = counters[b * 4u + 2u];
  let BK = dims.B * K;
  for (var j = 0u; j < K; j++) {
    let s = chosen_s[j];
    if (s <= DEAD) { break; }  // fewer than K candidates
    let k = chosen_i[j] / V;
    let v = chosen_i[j] % V;
    if (v == dims.eos) {
      if (n_finished < dims.finished_cap) {
        let at = (b * dims.finished_cap + n_finished) * 3u;
        finished[at] = bitcast<u32>(s);
        finished[at + 1u] = t;
        finished[at + 2u] = k;
      }
      n_finished++;
    } else {
      let slot = first + live;
      tokens_hist[t * BK + slot] = v;
      parents_hist[t * BK + slot] = k;
      next_ids[slot] = v;
      gather[slot] = first + k;
      next_scores[live] = s;
      live++;
    }
  }
  for (var j = 0u; j < K; j++) {
    let slot = first + j;
    if (j < live) {
      scores[slot] = next_scores[j];
    } else {
      scores[slot] = DEAD;
      tokens_hist[t * BK + slot] = dims.eos;
      parents_hist[t * BK + slot] = j;
      next_ids[slot] = dims.eos;
      gather[slot] = slot;
    }
  }
  counters[b * 4u + 2u] = n_finished;
  counters[b * 4u] = t + 1u;
  if (live == 0u || n_finished >= K || t + 1u >= dims.max_length) {
    counters[b * 4u + 1u] = 1u;
    counters[b * 4u + 3u] = t;
  }
}
