// One optimizer step over every parameter at once (the trainer keeps them in one flat buffer), with
// torch.optim's formulas (src/train/optim.ts says them, and is the float64 reference of this kernel):
// the gradient clamped to ±clip_value, scaled by min(1, max_norm / (‖g‖ + 1e-6)) from the norm the
// reduce pass left in `norm[0]` (clip_grad_norm_), then SGD / Adam / AdamW / RMSprop. The step's
// learning rate and bias corrections come from the host (it counts the steps and runs the schedule).
// State per element: a (SGD momentum buffer, Adam m, RMSprop momentum buffer), b (Adam v, RMSprop
// square average), c (Adam max v with amsgrad, RMSprop grad average when centered).
// Four elements at a time: the vectors are read as vec4s (src/gpu/ops/optimizer.ts pads them to a
// multiple of four; the padding's elements are updated too and mean nothing). Every formula is per
// element, so each lane computes what the scalar formula would; the work around the formulas (the
// loop, the index arithmetic, the uniform's scalars) is paid once per four elements.
//
// A step whose loss or ‖g‖² is not finite changes nothing: its number, loss and ‖g‖² go into the
// halt slots of `results`, and while those hold a step, no later step changes anything either (the
// host reads them back with the loss, src/train/engine.ts). The results are read as u32 words: the
// check is on the exponent bits (WGSL has no isNan, and a compiler may assume floats are finite).

override WORKGROUP_SIZE: u32 = 64u;
// Which update: one of these (the registry in src/train/optimizers/ names them; a test checks).
const SGD: u32 = 0u;
const ADAM: u32 = 1u;
const ADAMW: u32 = 2u;
const RMSPROP: u32 = 3u;
override OPTIMIZER: u32 = SGD;
override NESTEROV: bool = false;
override AMSGRAD: bool = false;
override CENTERED: bool = false;
// Word indices in `results` (RESULT_SLOTS in src/gpu/ops/optimizer.ts).
override LOSS_SLOT: u32 = 0u;
override HALT_STEP_SLOT: u32 = 2u;
override HALT_LOSS_SLOT: u32 = 3u;
override HALT_NORM_SLOT: u32 = 4u;

struct OptimizerDims {
  quads: u32,         // vec4s per vector: the padded length / 4
  first_step: u32,    // 1 on the first step (SGD's momentum buffer starts as the gradient)
  norm_index: u32,    // where the reduce pass left ‖g‖²
  clip_by_norm: u32,  // 1: apply clip_grad_norm_
  lr: f32,
  momentum: f32,
  dampening: f32,
  weight_decay: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  alpha: f32,
  bias_correction1: f32,        // 1 − β1^t
  bias_correction2_sqrt: f32,   // √(1 − β2^t)
  clip_value: f32,    // 0: none
  max_norm: f32,
  step: u32,          // this step's number (1 for the first), recorded if it halts
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> dims: OptimizerDims;
@group(0) @binding(1) var<storage, read_write> params: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> grads: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> state: array<vec4<f32>>;   // a, then b, then c: `quads` vec4s each
@group(0) @binding(4) var<storage, read_write> results: array<u32>;  // [loss, ‖g‖², halt step, halt loss, halt ‖g‖², …]

fn is_finite_bits(bits: u32) -> bool {
  return (bits & 0x7f800000u) != 0x7f800000u;
}

// Each invocation updates quads first, first + stride, … (stride: the dispatch's invocations; on a
// software adapter the host launches a sixteenth as many as there are quads, on a GPU one per quad),
// so that the halt words and the clip coefficient, the same for every element, are read once per
// invocation rather than once per quad (on a software adapter every load is a per-lane gather).
// Consecutive invocations still take consecutive quads, as a GPU wants them. Measured: see
// OPTIMIZER_SOFTWARE_QUADS_PER_INVOCATION (src/gpu/ops/optimizer.ts).
@compute @workgroup_size(WORKGROUP_SIZE)
fn step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let first = linear_index(gid, groups, WORKGROUP_SIZE);
  let n = dims.quads;
  if (first >= n) { return; }
  // Every invocation takes the same decision from the same words; invocation 0 records the halt
  // (another may already see it recorded, and skips all the same).
  if (results[HALT_STEP_SLOT] != 0u) { return; }
  let loss_bits = results[LOSS_SLOT];
  let norm_bits = results[dims.norm_index];
  if (!is_finite_bits(loss_bits) || !is_finite_bits(norm_bits)) {
    if (first == 0u) {
      results[HALT_STEP_SLOT] = dims.step;
      results[HALT_LOSS_SLOT] = loss_bits;
      results[HALT_NORM_SLOT] = norm_bits;
    }
    return;
  }
  var coef = 1.0;
  if (dims.clip_by_norm == 1u) { coef = min(1.0, dims.max_norm / (sqrt(bitcast<f32>(norm_bits)) + 1e-6)); }
  let stride = groups.x * groups.y * WORKGROUP_SIZE;
  for (var i = first; i < n; i += stride) { update(i, n, coef); }
}

// The update of quad i (of `n` per vector): its gradients clamped and scaled by `coef`
// (clip_grad_norm_'s, 1 without), then the optimizer's formula, lane by lane.
fn update(i: u32, n: u32, coef: f32) {
  var g = grads[i];
  if (dims.clip_value > 0.0) { g = clamp(g, vec4<f32>(-dims.clip_value), vec4<f32>(dims.clip_value)); }
  if (coef < 1.0) { g = g * coef; }
  var p = params[i];
  let wd = vec4<f32>(dims.weight_decay);
  switch OPTIMIZER {
    case SGD: {
      if (dims.weight_decay != 0.0) { g = fma(wd, p, g); }
      if (dims.momentum != 0.0) {
        let momentum = vec4<f32>(dims.momentum);
        var buf = g;
        if (dims.first_step == 0u) { buf = fma(momentum, state[i], (1.0 - dims.dampening) * g); }
        state[i] = buf;
        g = select(buf, fma(momentum, buf, g), NESTEROV);
      }
      p = p - dims.lr * g;
    }
    case ADAM, ADAMW: {
      if (OPTIMIZER == ADAMW) { p = p * (1.0 - dims.lr * dims.weight_decay); } else if (dims.weight_decay != 0.0) { g = fma(wd, p, g); }
      let m = fma(vec4<f32>(dims.beta1), state[i], (1.0 - dims.beta1) * g);
      let v = fma(vec4<f32>(dims.beta2), state[n + i], (1.0 - dims.beta2) * g * g);
      state[i] = m;
      state[n + i] = v;
      var vv = v;
      if (AMSGRAD) {
        vv = max(state[2u * n + i], v);
        state[2u * n + i] = vv;
      }
      p = p - (dims.lr / dims.bias_correction1) * (m / (sqrt(vv) / dims.bias_correction2_sqrt + dims.eps));
    }
    case RMSPROP, default: {
      if (dims.weight_decay != 0.0) { g = fma(wd, p, g); }
      let alpha = vec4<f32>(dims.alpha);
      let sq = fma(alpha, state[n + i], (1.0 - dims.alpha) * g * g);
      state[n + i] = sq;
      var avg = sq;
      if (CENTERED) {
        let ga = fma(alpha, state[2u * n + i], (1.0 - dims.alpha) * g);
        state[2u * n + i] = ga;
        avg = sq - ga * ga;
      }
      let denom = sqrt(avg) + dims.eps;
      if (dims.momentum > 0.0) {
        let buf = fma(vec4<f32>(dims.momentum), state[i], g / denom);
        state[i] = buf;
        p = p - dims.lr * buf;
      } else {
        p = p - dims.lr * g / denom;
      }
    }
  }
  params[i] = p;
}
