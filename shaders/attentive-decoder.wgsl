// A decoder with attention inside its recurrence (Bahdanau's placement) for training: the whole time
// loop, every stacked layer and the attention of every step in one dispatch forward and one backward.
// src/reference/attentive-decoder.ts is the float64 counterpart; src/gpu/ops/attentive-decoder.ts records it.
//
// At step t the query is the top layer's h_{t−1}; the scores over the row's source (positions at or
// past its length masked out), α = softmax, the context c_t = Σ_s α_s keys_s; layer 0 reads
// x_t = [e_t; c_t], each layer above the one below's h_t (through dropout), and every layer advances
// one step before the next step's attention. The score's operands: "dot" q·k, "general" q·(W k) with
// W k precomputed for every key (a GEMM before this kernel), "concat" Σ_a v_a tanh(W_q q + W_k k)_a with
// W_k k precomputed and W_q q computed here each step (it depends on the step's query).
//
// Work split: rows are independent, so one workgroup owns BLOCK_B batch rows for the whole loop and
// the steps synchronise with workgroup barriers only (no grid-wide sync). Its invocations share every
// loop of a phase, strided by WORKGROUP_SIZE: the sources (scores), the key features (context), the
// hidden units (gates: one vec4 of all gates of unit j per input, the packed layout of
// src/gpu/layer-weights.ts, loaded once for all the block's rows — the weights are what a step reads
// most). Rows past B in the last block repeat its last row and store nothing. Everything lives in storage (`saved`, `grad`), which storageBarrier orders
// within the workgroup: nothing here needs workgroup memory sized by the model.
//
// The forward keeps what the backward needs in `saved` (float offsets in `dims`): per layer its input
// x_l (T·B, I_l; layer 0's [e; c]), the pre-activations (T·B, H, 4: LSTM and RNN summed, GRU r, z
// summed then W_in·x + b_in and W_hn·h + b_hn apart, as recurrent-step.wgsl saves them), c_t, h_{t−1},
// c_{t−1}; α (T·B, S), the queries (T·B, H_q), concat's W_q q (T·B, A), the output (T·B, H_out) and the
// two state copies (per layer h (B, H_out) then, LSTM, c (B, H)) the steps alternate between.
//
// Layer 0's gates take the embedding's share, e_t·W_ih[:, :E]ᵀ + b_ih, from its pre-activation slots:
// the host's GEMM over all steps writes it there before the loop, which adds the context's share and
// the recurrent term in place. Only what the recurrence depends on stays in the loop.
//
// The backward runs the loop newest step first: per layer, top down, the gates' gradients (kept per
// layer for the weight gradients' GEMMs afterwards), then dL/dh_{t−1} through W_hhᵀ and dL/dx_t through
// W_ihᵀ — into the layer below (through its dropout mask), or for layer 0 into the context's gradient
// (dL/de, which nothing in the loop reads, is the host's GEMM afterwards); from that, dL/dα, the
// scores' gradient, and dL/dq, which joins the top layer's dL/dh_{t−1}.
// The parameters of the score and dL/dkeys are left to shaders/attention.wgsl's backward over all steps
// at once, from what this kernel keeps in `grad`: the contexts' gradients as dL/d[context | query] with
// the query's part zero (dL/dq is this kernel's), the scores' gradients and concat's dL/d(W_q q).

override MODE: u32 = MODE_LSTM;
override WORKGROUP_SIZE: u32 = 64u;
override CONCAT: bool = false;  // the score: concat's Σ v tanh(W_q q + W_k k), else a dot product of q and score_k
override BLOCK_B: u32 = 1u;     // batch rows per workgroup: 1, 2 or 4
const MAX_BLOCK_B = 4u;  // the per-row scratch of the softmax phases
// The block's vectors of a step in workgroup memory (BLOCK_B·H vec4, set by the host where that fits in
// 16 KiB): the backward's gate gradients, so that the products with W_hhᵀ and W_ihᵀ load one vec4 per
// unit and row from there instead of four (or five) floats from `grad`, and the forward's queries as
// vec4 of four inputs for concat's W_q q. Else STAGE_VEC4 is 1 and unused.
override STAGED: bool = false;
override STAGE_VEC4: u32 = 1u;
var<workgroup> stage: array<vec4<f32>, STAGE_VEC4>;

const MAX_LAYERS = 8u;

struct AttentiveDims {
  T: u32,
  B: u32,
  S: u32,
  E: u32,          // embedding width: layer 0 reads [e_t (E); c_t (H_k)]
  H_k: u32,
  H_q: u32,        // the query's width = the decoder's H_out
  H: u32,
  L: u32,
  A: u32,          // concat: the attention size (W_q is (A, H_q), v is (A)); otherwise unused
  wq_at: u32,      // float offsets in `params` of W_q and v (concat)
  v_at: u32,
  stream_base: u32,  // dropout's stream of layer l's input is stream_base + l
  x0_at: u32,      // saved: layer 0's inputs (T·B, E + H_k); layers above at x1_at + (l − 1)·T·B·H_q
  x1_at: u32,
  pre_at: u32,     // (L, T·B, H, 4)
  c_at: u32,       // (L, T·B, H)
  h_prev_at: u32,  // (L, T·B, H_q)
  c_prev_at: u32,  // (L, T·B, H)
  alpha_at: u32,   // (T·B, S)
  query_at: u32,   // (T·B, H_q)
  score_q_at: u32,  // concat: (T·B, A)
  output_at: u32,  // (T·B, H_q)
  state_at: u32,   // two copies × L layers × layer_state
  layer_state: u32,  // B·H_q, + B·H for LSTM
  dgx_at: u32,     // grad: the gates' gradients (L, T·B, H, 4) — W_ih's side
  dgh_at: u32,     // GRU: W_hh's side (L, T·B, H, 4); the other modes: = dgx_at
  dh_at: u32,      // grad: dL/dh of each layer (L, B, H_q) and dL/dc (L, B, H), carried between steps
  dc_at: u32,
  direct_at: u32,  // (B, H_q): the part of dL/dh(t−1) that bypasses W_hh (GRU's z·dh)
  dscore_at: u32,  // (T·B, S): the scores' gradient, kept for the attention's backward over all steps
  dsq_at: u32,     // concat: (T·B, A), dL/d(W_q q), kept likewise
  djoined_at: u32,  // dL/d[context | query] (T·B, H_k + H_q)
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
  _pad3: u32,
}

// Per step: the dropout seed and probability (zero when evaluating).
struct AttentiveRun {
  seed: u32,
  p: f32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> dims: AttentiveDims;
// Per layer, the vec4 offsets in `params` of its packed W_ih, b_ih, W_hh, b_hh.
@group(0) @binding(1) var<uniform> layer_params: array<vec4<u32>, MAX_LAYERS>;
@group(0) @binding(2) var<uniform> run: AttentiveRun;
@group(0) @binding(3) var<storage, read> lengths: array<u32>;          // source lengths (B)
@group(0) @binding(4) var<storage, read> params: array<vec4<f32>>;    // the trainer's flat parameters
@group(0) @binding(5) var<storage, read> keys: array<f32>;            // (S·B, H_k)
@group(0) @binding(6) var<storage, read> score_k: array<f32>;         // (S·B, H_q) or concat's (S·B, A); "dot": the keys
@group(0) @binding(7) var<storage, read> embedded: array<f32>;        // forward: e (T·B, E); backward: dL/d(output) (T·B, H_q)
@group(0) @binding(8) var<storage, read> initial: array<f32>;         // forward: the initial state, layer_state per layer
@group(0) @binding(9) var<storage, read_write> saved: array<f32>;
@group(0) @binding(10) var<storage, read_write> grad: array<f32>;     // backward only (forward: a placeholder)

fn param(i: u32) -> f32 {
  return params[i / 4u][i % 4u];
}

fn state_h(copy: u32, l: u32, b: u32, k: u32) -> u32 {
  return dims.state_at + (copy * dims.L + l) * dims.layer_state + b * dims.H_q + k;
}

fn state_c(copy: u32, l: u32, b: u32, j: u32) -> u32 {
  return dims.state_at + (copy * dims.L + l) * dims.layer_state + dims.B * dims.H_q + b * dims.H + j;
}

fn input_width(l: u32) -> u32 {
  return select(dims.H_q, dims.E + dims.H_k, l == 0u);
}

// Where layer l's input at row r = t·B + b starts in `saved`.
fn x_row(l: u32, r: u32) -> u32 {
  if (l == 0u) { return dims.x0_at + r * (dims.E + dims.H_k); }
  return dims.x1_at + ((l - 1u) * dims.T * dims.B + r) * dims.H_q;
}

fn pre_index(l: u32, r: u32, j: u32) -> u32 {
  return dims.pre_at + ((l * dims.T * dims.B + r) * dims.H + j) * 4u;
}

fn unit_index(l: u32, r: u32, j: u32) -> u32 {  // (L, T·B, H)
  return (l * dims.T * dims.B + r) * dims.H + j;
}

fn out_unit_index(l: u32, r: u32, k: u32) -> u32 {  // (L, T·B, H_q)
  return (l * dims.T * dims.B + r) * dims.H_q + k;
}

// Dropout's scale of element k of layer l's input at row r (l ≥ 1): shaders/dropout.wgsl's mask over
// that layer's (T·B, H_q) input, stream stream_base + l.
fn dropout_scale(l: u32, r: u32, k: u32) -> f32 {
  if (run.p <= 0.0) { return 1.0; }
  let keep = uniform01(run.seed, dims.stream_base + l, r * dims.H_q + k) >= run.p;
  return select(0.0, 1.0 / (1.0 - run.p), keep);
}

// concat's score term of source s: Σ_a v_a tanh(sq_a + sk_a).
fn concat_score(r: u32, s: u32, b: u32) -> f32 {
  var acc = 0.0;
  for (var a = 0u; a < dims.A; a++) {
    acc = fma(param(dims.v_at + a), tanh_safe(saved[dims.score_q_at + r * dims.A + a] + score_k[(s * dims.B + b) * dims.A + a]), acc);
  }
  return acc;
}

// The block's rows: b0 + i for i < rows (rows ≥ 1).
struct Block {
  b0: u32,
  rows: u32,
}

fn block_of(wid: vec3<u32>) -> Block {
  let b0 = wid.x * BLOCK_B;
  return Block(b0, min(BLOCK_B, dims.B - b0));
}

// Layer 0's pre-activation slots of row r, unit j.
fn pre4(r: u32, j: u32) -> vec4<f32> {
  let p = pre_index(0u, r, j);
  return vec4<f32>(saved[p], saved[p + 1u], saved[p + 2u], saved[p + 3u]);
}

// Unit j of row b at step t, layer l, from its gates' input and recurrent terms: the state update,
// what the backward needs, the next state and (top layer) the output.
fn forward_unit(l: u32, t: u32, b: u32, j: u32, gx: vec4<f32>, rec: vec4<f32>) {
  let cur = t % 2u;
  let nxt = 1u - cur;
  let r = t * dims.B + b;
  let lstm = MODE == MODE_LSTM;
  var h_prev = 0.0;
  if (j < dims.H_q) { h_prev = saved[state_h(cur, l, b, j)]; }
  var c_prev = 0.0;
  if (lstm) { c_prev = saved[state_c(cur, l, b, j)]; }
  let hc = cell_update(MODE, gx, rec, h_prev, c_prev);
  var pre = gx + rec;
  if (MODE == MODE_GRU) { pre = vec4<f32>(gx.x + rec.x, gx.y + rec.y, gx.z, rec.z); }
  let p = pre_index(l, r, j);
  saved[p] = pre.x;
  saved[p + 1u] = pre.y;
  saved[p + 2u] = pre.z;
  saved[p + 3u] = pre.w;
  saved[dims.h_prev_at + out_unit_index(l, r, j)] = h_prev;
  if (lstm) {
    saved[dims.c_at + unit_index(l, r, j)] = hc.y;
    saved[dims.c_prev_at + unit_index(l, r, j)] = c_prev;
    saved[state_c(nxt, l, b, j)] = hc.y;
  }
  saved[state_h(nxt, l, b, j)] = hc.x;
  if (l == dims.L - 1u) { saved[dims.output_at + r * dims.H_q + j] = hc.x; }
}

// W_q[a, 4q … 4q + 3] (zeros past H_q): one vec4 of `params` where its rows are whole vec4s (W_q starts
// at a multiple of 4 floats: the host checks it).
fn wq4(a: u32, q: u32) -> vec4<f32> {
  let at = dims.wq_at + a * dims.H_q + 4u * q;
  if (dims.H_q % 4u == 0u) { return params[at / 4u]; }
  var w = vec4<f32>(0.0);
  for (var u = 0u; u < 4u; u++) {
    if (4u * q + u < dims.H_q) { w[u] = param(at + u); }
  }
  return w;
}

// The queries of the block's row `row` at inputs 4q … 4q + 3 (zeros past H_q); `r0` is the block's
// first row at this step (t·B + b0).
fn block_query(row: u32, r0: u32, q: u32) -> vec4<f32> {
  if (STAGED) { return stage[row * ((dims.H_q + 3u) / 4u) + q]; }
  let at = dims.query_at + (r0 + row) * dims.H_q + 4u * q;
  var v = vec4<f32>(0.0);
  for (var u = 0u; u < 4u; u++) {
    if (4u * q + u < dims.H_q) { v[u] = saved[at + u]; }
  }
  return v;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn attentive_forward(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let blk = block_of(wid);
  let B = dims.B;
  let S = dims.S;
  let H = dims.H;
  let Hq = dims.H_q;
  let lstm = MODE == MODE_LSTM;
  // The initial states into copy 0.
  for (var i = 0u; i < blk.rows; i++) {
    let b = blk.b0 + i;
    for (var l = 0u; l < dims.L; l++) {
      for (var k = lid; k < Hq; k += WORKGROUP_SIZE) { saved[state_h(0u, l, b, k)] = initial[l * dims.layer_state + b * Hq + k]; }
      if (lstm) {
        for (var j = lid; j < H; j += WORKGROUP_SIZE) { saved[state_c(0u, l, b, j)] = initial[l * dims.layer_state + B * Hq + b * H + j]; }
      }
    }
  }
  storageBarrier();
  for (var t = 0u; t < dims.T; t++) {
    let cur = t % 2u;
    let nxt = 1u - cur;
    let top = dims.L - 1u;
    // The query: the top layer's h_{t−1} (and, staged, the block's queries as vec4 in workgroup memory).
    let Q = (Hq + 3u) / 4u;
    for (var i = 0u; i < blk.rows; i++) {
      let b = blk.b0 + i;
      let r = t * B + b;
      for (var k = lid; k < Hq; k += WORKGROUP_SIZE) { saved[dims.query_at + r * Hq + k] = saved[state_h(cur, top, b, k)]; }
      if (CONCAT && STAGED) {
        for (var q = lid; q < Q; q += WORKGROUP_SIZE) {
          var v = vec4<f32>(0.0);
          for (var u = 0u; u < 4u; u++) {
            if (4u * q + u < Hq) { v[u] = saved[state_h(cur, top, b, 4u * q + u)]; }
          }
          stage[i * Q + q] = v;
        }
      }
    }
    storageBarrier();
    workgroupBarrier();
    // concat's W_q q, each W_q vec4 (four inputs) loaded once for the block's rows (rows past the
    // block's repeat its last: never stored).
    if (CONCAT) {
      let last = blk.rows - 1u;
      let o1 = min(1u, last);
      let o2 = min(2u, last);
      let o3 = min(3u, last);
      let r0 = t * B + blk.b0;
      for (var a = lid; a < dims.A; a += WORKGROUP_SIZE) {
        var a0 = vec4<f32>(0.0);
        var a1 = vec4<f32>(0.0);
        var a2 = vec4<f32>(0.0);
        var a3 = vec4<f32>(0.0);
        for (var q = 0u; q < Q; q++) {
          let w = wq4(a, q);
          a0 = fma(w, block_query(0u, r0, q), a0);
          if (BLOCK_B > 1u) { a1 = fma(w, block_query(o1, r0, q), a1); }
          if (BLOCK_B > 2u) {
            a2 = fma(w, block_query(o2, r0, q), a2);
            a3 = fma(w, block_query(o3, r0, q), a3);
          }
        }
        let sq = dims.score_q_at + r0 * dims.A + a;
        saved[sq] = a0.x + a0.y + a0.z + a0.w;
        if (blk.rows > 1u) { saved[sq + dims.A] = a1.x + a1.y + a1.z + a1.w; }
        if (blk.rows > 2u) { saved[sq + 2u * dims.A] = a2.x + a2.y + a2.z + a2.w; }
        if (blk.rows > 3u) { saved[sq + 3u * dims.A] = a3.x + a3.y + a3.z + a3.w; }
      }
    }
    storageBarrier();
    // The scores, in α's place until the softmax.
    for (var i = 0u; i < blk.rows; i++) {
      let b = blk.b0 + i;
      let r = t * B + b;
      let len = lengths[b];
      for (var s = lid; s < S; s += WORKGROUP_SIZE) {
        var score = 0.0;
        if (s < len) {
          if (CONCAT) {
            score = concat_score(r, s, b);
          } else {
            for (var k = 0u; k < Hq; k++) { score = fma(saved[dims.query_at + r * Hq + k], score_k[(s * B + b) * Hq + k], score); }
          }
        }
        saved[dims.alpha_at + r * S + s] = score;
      }
    }
    storageBarrier();
    // Every invocation finds each row's maximum and sum over its sources itself (S is small).
    var m: array<f32, MAX_BLOCK_B>;
    var sum: array<f32, MAX_BLOCK_B>;
    for (var i = 0u; i < blk.rows; i++) {
      let b = blk.b0 + i;
      let r = t * B + b;
      let len = lengths[b];
      m[i] = saved[dims.alpha_at + r * S];
      for (var s = 1u; s < len; s++) { m[i] = max(m[i], saved[dims.alpha_at + r * S + s]); }
      sum[i] = 0.0;
      for (var s = 0u; s < len; s++) { sum[i] += exp(saved[dims.alpha_at + r * S + s] - m[i]); }
    }
    storageBarrier();
    for (var i = 0u; i < blk.rows; i++) {
      let b = blk.b0 + i;
      let r = t * B + b;
      let len = lengths[b];
      for (var s = lid; s < S; s += WORKGROUP_SIZE) {
        let e = dims.alpha_at + r * S + s;
        saved[e] = select(0.0, exp(saved[e] - m[i]) / sum[i], s < len);
      }
    }
    storageBarrier();
    // Layer 0's input [e_t; c_t].
    for (var i = 0u; i < blk.rows; i++) {
      let b = blk.b0 + i;
      let r = t * B + b;
      let len = lengths[b];
      let x0 = x_row(0u, r);
      for (var k = lid; k < dims.E; k += WORKGROUP_SIZE) { saved[x0 + k] = embedded[r * dims.E + k]; }
      for (var k = lid; k < dims.H_k; k += WORKGROUP_SIZE) {
        var acc = 0.0;
        for (var s = 0u; s < len; s++) { acc = fma(saved[dims.alpha_at + r * S + s], keys[(s * B + b) * dims.H_k + k], acc); }
        saved[x0 + dims.E + k] = acc;
      }
    }
    storageBarrier();
    for (var l = 0u; l < dims.L; l++) {
      let I = input_width(l);
      let at = layer_params[l];  // W_ih, b_ih, W_hh, b_hh (vec4 offsets)
      // Each row's input and h_{t−1} (rows past the block's repeat its last: computed, never stored).
      // One accumulator per row in separate variables (BLOCK_B is 1, 2 or 4, a pipeline constant: the
      // unused ones compile away), as recurrent-step.wgsl does: private arrays indexed in a loop stay
      // in memory on software adapters (3× slower here).
      let last = blk.rows - 1u;
      let x0 = x_row(l, t * B + blk.b0);
      let x1 = x_row(l, t * B + blk.b0 + min(1u, last));
      let x2 = x_row(l, t * B + blk.b0 + min(2u, last));
      let x3 = x_row(l, t * B + blk.b0 + min(3u, last));
      let h0 = state_h(cur, l, blk.b0, 0u);
      let h1 = state_h(cur, l, blk.b0 + min(1u, last), 0u);
      let h2 = state_h(cur, l, blk.b0 + min(2u, last), 0u);
      let h3 = state_h(cur, l, blk.b0 + min(3u, last), 0u);
      for (var j = lid; j < H; j += WORKGROUP_SIZE) {
        let bias_x = params[at.y + j];
        let bias_h = params[at.w + j];
        var gx0 = bias_x;
        var gx1 = bias_x;
        var gx2 = bias_x;
        var gx3 = bias_x;
        var k = 0u;
        if (l == 0u) {
          // The embedding's share with b_ih is in layer 0's pre-activation slots already (a GEMM over all
          // steps before this kernel): only the context's columns remain.
          let r0 = t * B + blk.b0;
          gx0 = pre4(r0, j);
          gx1 = pre4(r0 + min(1u, last), j);
          gx2 = pre4(r0 + min(2u, last), j);
          gx3 = pre4(r0 + min(3u, last), j);
          k = dims.E;
        }
        for (; k < I; k++) {
          let w = params[at.x + k * H + j];
          gx0 = fma(w, vec4<f32>(saved[x0 + k]), gx0);
          if (BLOCK_B > 1u) { gx1 = fma(w, vec4<f32>(saved[x1 + k]), gx1); }
          if (BLOCK_B > 2u) {
            gx2 = fma(w, vec4<f32>(saved[x2 + k]), gx2);
            gx3 = fma(w, vec4<f32>(saved[x3 + k]), gx3);
          }
        }
        var rec0 = bias_h;
        var rec1 = bias_h;
        var rec2 = bias_h;
        var rec3 = bias_h;
        for (var k = 0u; k < Hq; k++) {
          let w = params[at.z + k * H + j];
          rec0 = fma(w, vec4<f32>(saved[h0 + k]), rec0);
          if (BLOCK_B > 1u) { rec1 = fma(w, vec4<f32>(saved[h1 + k]), rec1); }
          if (BLOCK_B > 2u) {
            rec2 = fma(w, vec4<f32>(saved[h2 + k]), rec2);
            rec3 = fma(w, vec4<f32>(saved[h3 + k]), rec3);
          }
        }
        forward_unit(l, t, blk.b0, j, gx0, rec0);
        if (blk.rows > 1u) { forward_unit(l, t, blk.b0 + 1u, j, gx1, rec1); }
        if (blk.rows > 2u) { forward_unit(l, t, blk.b0 + 2u, j, gx2, rec2); }
        if (blk.rows > 3u) { forward_unit(l, t, blk.b0 + 3u, j, gx3, rec3); }
      }
      storageBarrier();
      if (l < top) {
        for (var i = 0u; i < blk.rows; i++) {
          let b = blk.b0 + i;
          let r = t * B + b;
          let x_above = x_row(l + 1u, r);
          for (var k = lid; k < Hq; k += WORKGROUP_SIZE) { saved[x_above + k] = saved[state_h(nxt, l, b, k)] * dropout_scale(l + 1u, r, k); }
        }
        storageBarrier();
      }
    }
  }
}

// The four lanes at `base` of `grad`.
fn grad4(base: u32) -> vec4<f32> {
  return vec4<f32>(grad[base], grad[base + 1u], grad[base + 2u], grad[base + 3u]);
}

// The gate gradients of the block's row `row` (0 … BLOCK_B − 1) at unit j, for both products: W_ih's
// side (dg_x) in the gate lanes, and for GRU W_hh's third gate (dpre_n·r, where dg_h differs from dg_x)
// in the spare fourth lane. `base` is the block's first row in the (L, T·B) numbering.
// Staged, with subgroups, invocation c of each subgroup loads the vec4's component c and broadcasts
// it: one workgroup load per invocation instead of four (call it in uniform control flow).
fn block_dg(row: u32, base: u32, j: u32, lane: u32) -> vec4<f32> {
  if (STAGED) {
    if (SUBGROUPS) { return lane_scalars(stage[row * dims.H + j][lane % 4u]); }
    return stage[row * dims.H + j];
  }
  let at = ((base + row) * dims.H + j) * 4u;
  let gx = grad4(dims.dgx_at + at);
  if (MODE == MODE_GRU) { return vec4<f32>(gx.xyz, grad[dims.dgh_at + at + 2u]); }
  return gx;
}

// A W_hh vec4 (unit j's gates, lanes past the gate count zero) times block_dg: dg_h's side.
fn dot_h(w: vec4<f32>, dg: vec4<f32>) -> f32 {
  if (MODE == MODE_GRU) { return dot(w.xyz, dg.xyw); }
  return dot(w, dg);
}

// A W_ih vec4 times block_dg: dg_x's side.
fn dot_x(w: vec4<f32>, dg: vec4<f32>) -> f32 {
  if (MODE == MODE_GRU) { return dot(w.xyz, dg.xyz); }
  return dot(w, dg);
}

// dL/dh_{t−1}[k] of row b, layer l: W_hhᵀ·dg_h (`through`) and the part that bypasses W_hh.
fn hidden_unit(l: u32, b: u32, k: u32, through: f32) {
  grad[dims.dh_at + (l * dims.B + b) * dims.H_q + k] = through + grad[dims.direct_at + b * dims.H_q + k];
}

// dL/dx_t[k] of row b, layer l (W_ihᵀ·dg_x): into the layer below's dL/dh_t through its dropout mask,
// or for layer 0 (k ≥ E) into the context's gradient.
fn input_unit(l: u32, t: u32, b: u32, k: u32, v: f32) {
  let r = t * dims.B + b;
  if (l > 0u) {
    grad[dims.dh_at + ((l - 1u) * dims.B + b) * dims.H_q + k] += v * dropout_scale(l, r, k);
  } else {
    grad[dims.djoined_at + r * (dims.H_k + dims.H_q) + (k - dims.E)] = v;
  }
}

// dL/dq[4q … 4q + 3] of row b (lanes past H_q dropped), added to the top layer's dL/dh_{t−1}.
fn add_query_grad(b: u32, q: u32, v: vec4<f32>) {
  let at = dims.dh_at + ((dims.L - 1u) * dims.B + b) * dims.H_q + 4u * q;
  for (var u = 0u; u < 4u; u++) {
    if (4u * q + u < dims.H_q) { grad[at + u] += v[u]; }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn attentive_backward(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let lane = subgroup_lane();
  let blk = block_of(wid);
  let B = dims.B;
  let S = dims.S;
  let H = dims.H;
  let Hq = dims.H_q;
  let Hk = dims.H_k;
  let J = Hk + Hq;
  let top = dims.L - 1u;
  // dL/dh and dL/dc of the final states arrive in `grad` (the caller copies them there, or clears it).
  for (var tt = 0u; tt < dims.T; tt++) {
    let t = dims.T - 1u - tt;
    for (var i = 0u; i < blk.rows; i++) {
      let b = blk.b0 + i;
      let r = t * B + b;
      for (var k = lid; k < Hq; k += WORKGROUP_SIZE) { grad[dims.dh_at + (top * B + b) * Hq + k] += embedded[r * Hq + k]; }
    }
    storageBarrier();
    for (var li = 0u; li < dims.L; li++) {
      let l = top - li;
      let at = layer_params[l];
      // The gates' gradients of unit j from the total dL/dh_t and the carried dL/dc_t.
      for (var j = lid; j < H; j += WORKGROUP_SIZE) {
        for (var i = 0u; i < blk.rows; i++) {
          let b = blk.b0 + i;
          let r = t * B + b;
          let dh = grad[dims.dh_at + (l * B + b) * Hq + j];
          let p = pre_index(l, r, j);
          let pre = vec4<f32>(saved[p], saved[p + 1u], saved[p + 2u], saved[p + 3u]);
          let gi = dims.dgx_at + ((l * dims.T * B + r) * H + j) * 4u;
          let gh = dims.dgh_at + ((l * dims.T * B + r) * H + j) * 4u;
          var dgx = vec4<f32>(0.0);
          var dgh = vec4<f32>(0.0);
          var direct = 0.0;
          switch MODE {
            case MODE_LSTM: {
              let ig = sigmoid(pre.x);
              let f = sigmoid(pre.y);
              let g = tanh_safe(pre.z);
              let o = sigmoid(pre.w);
              let tc = tanh_safe(saved[dims.c_at + unit_index(l, r, j)]);
              let dci = dims.dc_at + (l * B + b) * H + j;
              let dc = grad[dci] + dh * o * (1.0 - tc * tc);
              let c_prev = saved[dims.c_prev_at + unit_index(l, r, j)];
              dgx = vec4<f32>(dc * g * ig * (1.0 - ig), dc * c_prev * f * (1.0 - f), dc * ig * (1.0 - g * g), dh * tc * o * (1.0 - o));
              dgh = dgx;
              grad[dci] = dc * f;
            }
            case MODE_GRU: {
              let rg = sigmoid(pre.x);
              let z = sigmoid(pre.y);
              let n = tanh_safe(fma(rg, pre.w, pre.z));
              let h_prev = saved[dims.h_prev_at + out_unit_index(l, r, j)];
              let dpre_n = dh * (1.0 - z) * (1.0 - n * n);
              let dr = dpre_n * pre.w * rg * (1.0 - rg);
              let dz = dh * (h_prev - n) * z * (1.0 - z);
              dgx = vec4<f32>(dr, dz, dpre_n, 0.0);
              dgh = vec4<f32>(dr, dz, dpre_n * rg, 0.0);
              direct = dh * z;
            }
            case MODE_RNN_RELU: {
              dgx = vec4<f32>(select(0.0, dh, pre.x > 0.0), 0.0, 0.0, 0.0);
              dgh = dgx;
            }
            default: {  // MODE_RNN_TANH
              let h = tanh_safe(pre.x);
              dgx = vec4<f32>(dh * (1.0 - h * h), 0.0, 0.0, 0.0);
              dgh = dgx;
            }
          }
          grad[gi] = dgx.x;
          grad[gi + 1u] = dgx.y;
          grad[gi + 2u] = dgx.z;
          grad[gi + 3u] = dgx.w;
          if (MODE == MODE_GRU) {
            grad[gh] = dgh.x;
            grad[gh + 1u] = dgh.y;
            grad[gh + 2u] = dgh.z;
            grad[gh + 3u] = dgh.w;
          }
          grad[dims.direct_at + b * Hq + j] = direct;
          if (STAGED) {
            var packed = dgx;
            if (MODE == MODE_GRU) { packed.w = dgh.z; }
            stage[i * H + j] = packed;
          }
        }
      }
      storageBarrier();
      workgroupBarrier();
      // Each row's gate gradients at step t (rows past the block's repeat its last: never stored), one
      // accumulator per row in separate variables (see the forward).
      let last = blk.rows - 1u;
      let base = l * dims.T * B + t * B + blk.b0;
      let o1 = min(1u, last);
      let o2 = min(2u, last);
      let o3 = min(3u, last);
      // dL/dh_{t−1} of this layer: the direct part and W_hhᵀ·dg_h.
      // Inputs in passes of the workgroup's width, in uniform control flow (block_dg's broadcasts need
      // it): an invocation past the last computes on a clamped one and stores nothing.
      for (var k0 = 0u; k0 < Hq; k0 += WORKGROUP_SIZE) {
        let k = min(k0 + lid, Hq - 1u);
        var a0 = 0.0;
        var a1 = 0.0;
        var a2 = 0.0;
        var a3 = 0.0;
        for (var j = 0u; j < H; j++) {
          let w = params[at.z + k * H + j];
          a0 += dot_h(w, block_dg(0u, base, j, lane));
          if (BLOCK_B > 1u) { a1 += dot_h(w, block_dg(o1, base, j, lane)); }
          if (BLOCK_B > 2u) {
            a2 += dot_h(w, block_dg(o2, base, j, lane));
            a3 += dot_h(w, block_dg(o3, base, j, lane));
          }
        }
        if (k0 + lid < Hq) {
          hidden_unit(l, blk.b0, k, a0);
          if (blk.rows > 1u) { hidden_unit(l, blk.b0 + 1u, k, a1); }
          if (blk.rows > 2u) { hidden_unit(l, blk.b0 + 2u, k, a2); }
          if (blk.rows > 3u) { hidden_unit(l, blk.b0 + 3u, k, a3); }
        }
      }
      // dL/dx_t = W_ihᵀ·dg_x: the layer below's dL/dh_t (through the dropout mask), or for layer 0 the
      // context's gradient (dL/de_t is a GEMM over all steps after this kernel: nothing in the loop needs it).
      let I = input_width(l);
      for (var k0 = select(0u, dims.E, l == 0u); k0 < I; k0 += WORKGROUP_SIZE) {
        let k = min(k0 + lid, I - 1u);
        var a0 = 0.0;
        var a1 = 0.0;
        var a2 = 0.0;
        var a3 = 0.0;
        for (var j = 0u; j < H; j++) {
          let w = params[at.x + k * H + j];
          a0 += dot_x(w, block_dg(0u, base, j, lane));
          if (BLOCK_B > 1u) { a1 += dot_x(w, block_dg(o1, base, j, lane)); }
          if (BLOCK_B > 2u) {
            a2 += dot_x(w, block_dg(o2, base, j, lane));
            a3 += dot_x(w, block_dg(o3, base, j, lane));
          }
        }
        if (k0 + lid < I) {
          input_unit(l, t, blk.b0, k, a0);
          if (blk.rows > 1u) { input_unit(l, t, blk.b0 + 1u, k, a1); }
          if (blk.rows > 2u) { input_unit(l, t, blk.b0 + 2u, k, a2); }
          if (blk.rows > 3u) { input_unit(l, t, blk.b0 + 3u, k, a3); }
        }
      }
      storageBarrier();
      workgroupBarrier();  // the next layer's gate gradients overwrite the stage
    }
    // The query's share: dL/dα_s = dc·keys_s, the scores' gradient α_s(dα_s − Σ α dα), then dL/dq.
    for (var i = 0u; i < blk.rows; i++) {
      let b = blk.b0 + i;
      let r = t * B + b;
      let len = lengths[b];
      let dctx = dims.djoined_at + r * J;
      for (var k = lid; k < Hq; k += WORKGROUP_SIZE) { grad[dctx + Hk + k] = 0.0; }
      for (var s = lid; s < S; s += WORKGROUP_SIZE) {
        var acc = 0.0;
        if (s < len) {
          for (var k = 0u; k < Hk; k++) { acc = fma(grad[dctx + k], keys[(s * B + b) * Hk + k], acc); }
        }
        grad[dims.dscore_at + r * S + s] = acc;
      }
    }
    storageBarrier();
    var weighted: array<f32, MAX_BLOCK_B>;
    for (var i = 0u; i < blk.rows; i++) {
      let b = blk.b0 + i;
      let r = t * B + b;
      weighted[i] = 0.0;
      for (var s = 0u; s < lengths[b]; s++) { weighted[i] = fma(saved[dims.alpha_at + r * S + s], grad[dims.dscore_at + r * S + s], weighted[i]); }
    }
    storageBarrier();
    for (var i = 0u; i < blk.rows; i++) {
      let b = blk.b0 + i;
      let r = t * B + b;
      for (var s = lid; s < S; s += WORKGROUP_SIZE) {
        let e = dims.dscore_at + r * S + s;
        grad[e] = saved[dims.alpha_at + r * S + s] * (grad[e] - weighted[i]);
      }
    }
    storageBarrier();
    if (CONCAT) {
      for (var i = 0u; i < blk.rows; i++) {
        let b = blk.b0 + i;
        let r = t * B + b;
        let len = lengths[b];
        for (var a = lid; a < dims.A; a += WORKGROUP_SIZE) {
          var acc = 0.0;
          let sq = saved[dims.score_q_at + r * dims.A + a];
          for (var s = 0u; s < len; s++) {
            let u = tanh_safe(sq + score_k[(s * B + b) * dims.A + a]);
            acc = fma(grad[dims.dscore_at + r * S + s], -u * u, acc);  // the 1 of 1 − u² dropped: attention.wgsl's back_query says why
          }
          grad[dims.dsq_at + r * dims.A + a] = acc * param(dims.v_at + a);
        }
      }
      storageBarrier();
      // dL/dq = W_qᵀ·dL/d(W_q q) into the top layer's dL/dh_{t−1}: four inputs per invocation, each W_q
      // vec4 loaded once for the block's rows (rows past the block's repeat its last: never stored).
      let last = blk.rows - 1u;
      let r0 = t * B + blk.b0;
      let d0 = dims.dsq_at + r0 * dims.A;
      let d1 = dims.dsq_at + (r0 + min(1u, last)) * dims.A;
      let d2 = dims.dsq_at + (r0 + min(2u, last)) * dims.A;
      let d3 = dims.dsq_at + (r0 + min(3u, last)) * dims.A;
      for (var q = lid; 4u * q < Hq; q += WORKGROUP_SIZE) {
        var a0 = vec4<f32>(0.0);
        var a1 = vec4<f32>(0.0);
        var a2 = vec4<f32>(0.0);
        var a3 = vec4<f32>(0.0);
        for (var a = 0u; a < dims.A; a++) {
          let w = wq4(a, q);
          a0 = fma(w, vec4<f32>(grad[d0 + a]), a0);
          if (BLOCK_B > 1u) { a1 = fma(w, vec4<f32>(grad[d1 + a]), a1); }
          if (BLOCK_B > 2u) {
            a2 = fma(w, vec4<f32>(grad[d2 + a]), a2);
            a3 = fma(w, vec4<f32>(grad[d3 + a]), a3);
          }
        }
        add_query_grad(blk.b0, q, a0);
        if (blk.rows > 1u) { add_query_grad(blk.b0 + 1u, q, a1); }
        if (blk.rows > 2u) { add_query_grad(blk.b0 + 2u, q, a2); }
        if (blk.rows > 3u) { add_query_grad(blk.b0 + 3u, q, a3); }
      }
    } else {
      for (var i = 0u; i < blk.rows; i++) {
        let b = blk.b0 + i;
        let r = t * B + b;
        let len = lengths[b];
        let dh_top = dims.dh_at + (top * B + b) * Hq;
        for (var k = lid; k < Hq; k += WORKGROUP_SIZE) {
          var acc = 0.0;
          for (var s = 0u; s < len; s++) { acc = fma(grad[dims.dscore_at + r * S + s], score_k[(s * B + b) * Hq + k], acc); }
          grad[dh_top + k] += acc;
        }
      }
    }
    storageBarrier();
  }
}
