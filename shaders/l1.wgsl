// The L1 penalty λ·Σ|θ| of a training step (optimizer.l1): its gradient added to the parameters'
// gradients, grads[i] += λ·sign(θ_i) (sign(0) = 0, as PyTorch's abs backward), and |θ_i| into
// `magnitudes` for the sum (shaders/reduce.wgsl) that the host scales by λ into the loss. One
// invocation per element; λ is written before each step.

override WORKGROUP_SIZE: u32 = 64u;

struct L1Dims {
  n: u32,
  lambda: f32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> dims: L1Dims;
@group(0) @binding(1) var<storage, read> params: array<f32>;
@group(0) @binding(2) var<storage, read_write> grads: array<f32>;
@group(0) @binding(3) var<storage, read_write> magnitudes: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn l1_penalty(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups, WORKGROUP_SIZE);
  if (i >= dims.n) { return; }
  let p = params[i];
  grads[i] = fma(dims.lambda, sign(p), grads[i]);
  magnitudes[i] = abs(p);
}
