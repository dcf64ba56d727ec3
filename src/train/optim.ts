/**
 * Optimizers, gradient clipping and learning-rate schedules with torch.optim's update formulas and
 * defaults, as one description (`opt.json` of the CLI) and as a float64 reference update that the GPU
 * update kernel (shaders/optimizer.wgsl) is checked against. The optimizers themselves — arguments,
 * defaults, the kernel's code, the per-element update — are the registry in optimizers/. One step, in
 * PyTorch's usual loop order:
 *   clip_grad_value_ (clip_grad_value) → clip_grad_norm_ (clip_grad_norm) → optimizer.step() →
 *   scheduler.step().
 * Schedules (stepped after each optimizer step, the rate used at step k is the schedule's at k):
 *   StepLR(step_size, gamma=0.1): lr₀·γ^⌊k/step_size⌋
 *   CosineAnnealingLR(T_max, eta_min=0): η_min + (lr₀ − η_min)(1 + cos(πk/T_max))/2
 *   LinearLR(start_factor=1/3, end_factor=1, total_iters=5): lr₀·(s + (e − s)·min(k, n)/n)
 */
import { RnnError, describeValue } from '../errors.js';
import type { OptimizerKernel, OptimizerScalars } from '../gpu/ops/optimizer.js';
import { OPTIMIZERS, type OptimizerName, type OptimizerState } from './optimizers/index.js';

export type { OptimizerName, OptimizerState } from './optimizers/index.js';

export type ScheduleConfig =
  | { name: 'step'; step_size: number; gamma?: number }
  | { name: 'cosine'; T_max: number; eta_min?: number }
  | { name: 'linear'; start_factor?: number; end_factor?: number; total_iters?: number };

/** What opt.json holds: PyTorch's constructor arguments plus clipping and a schedule. */
export interface OptimizerConfigInput {
  name: OptimizerName;
  lr?: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weight_decay?: number;
  betas?: [number, number];
  eps?: number;
  amsgrad?: boolean;
  alpha?: number;
  centered?: boolean;
  clip_grad_value?: number;
  clip_grad_norm?: number;
  lr_schedule?: ScheduleConfig;
}

/** Every field resolved to PyTorch's default. */
export interface OptimizerConfig {
  readonly name: OptimizerName;
  readonly lr: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  readonly weight_decay: number;
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly amsgrad: boolean;
  readonly alpha: number;
  readonly centered: boolean;
  readonly clip_grad_value?: number;
  readonly clip_grad_norm?: number;
  readonly lr_schedule?: Required<ScheduleConfig>;
}

const bad = (message: string): never => {
  throw new RnnError('OPTION_INVALID', message);
};

function num(name: string, v: unknown, fallback: number, check: (x: number) => boolean = (x) => x >= 0): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) bad(`optimizer.${name}: invalid value ${describeValue(v)}`);
  return v as number;
}

function flag(name: string, v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') bad(`optimizer.${name}: expected true or false, got ${describeValue(v)}`);
  return v as boolean;
}

/** A resolved optimizer as the description that resolves to it: its own arguments only (opt.json's form). */
export function optimizerDescription(opt: OptimizerConfig): OptimizerConfigInput {
  const own = ['name', 'lr', ...OPTIMIZERS[opt.name].keys, 'clip_grad_value', 'clip_grad_norm', 'lr_schedule'];
  return Object.fromEntries(Object.entries(opt).filter(([k, v]) => own.includes(k) && v !== undefined)) as unknown as OptimizerConfigInput;
}

/** Checks an optimizer description (rejecting what torch.optim rejects) and fills PyTorch's defaults. */
export function resolveOptimizer(input: unknown): OptimizerConfig {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return bad(`optimizer: expected an object, got ${describeValue(input)}`);
  const raw = input as Record<string, unknown>;
  const name = raw.name as OptimizerName;
  if (!Object.hasOwn(OPTIMIZERS, name))
    bad(
      `optimizer.name: expected ${Object.keys(OPTIMIZERS)
        .map((n) => `"${n}"`)
        .join(', ')}, got ${describeValue(raw.name)}`,
    );
  const def = OPTIMIZERS[name];
  const known = ['name', 'lr', ...def.keys, 'clip_grad_value', 'clip_grad_norm', 'lr_schedule'];
  const unknown = Object.keys(raw).filter((k) => !known.includes(k));
  if (unknown.length) bad(`optimizer: unknown key(s) ${unknown.map((k) => describeValue(k)).join(', ')} for ${name}; known keys are ${known.join(', ')}`);
  const betas = (raw.betas === undefined ? [0.9, 0.999] : raw.betas) as number[];
  if (!Array.isArray(betas) || betas.length !== 2 || !betas.every((b) => typeof b === 'number' && b >= 0 && b < 1))
    bad(`optimizer.betas: expected two numbers in [0, 1), got ${describeValue(raw.betas)}`);
  const resolved: OptimizerConfig = {
    name,
    // torch.optim accepts lr = 0; a run that cannot move is refused here.
    lr:
      def.defaultLr === undefined && raw.lr === undefined
        ? bad(`optimizer.lr: required for ${name} (torch.optim has no default)`)
        : num('lr', raw.lr, def.defaultLr ?? 0, (x) => x > 0),
    momentum: num('momentum', raw.momentum, 0),
    dampening: num('dampening', raw.dampening, 0),
    nesterov: flag('nesterov', raw.nesterov),
    weight_decay: num('weight_decay', raw.weight_decay, def.defaultWeightDecay),
    betas: [betas[0], betas[1]] as const,
    eps: num('eps', raw.eps, 1e-8),
    amsgrad: flag('amsgrad', raw.amsgrad),
    alpha: num('alpha', raw.alpha, 0.99),
    centered: flag('centered', raw.centered),
    clip_grad_value: raw.clip_grad_value === undefined ? undefined : num('clip_grad_value', raw.clip_grad_value, 0, (x) => x > 0),
    clip_grad_norm: raw.clip_grad_norm === undefined ? undefined : num('clip_grad_norm', raw.clip_grad_norm, 0, (x) => x > 0),
    lr_schedule: raw.lr_schedule === undefined ? undefined : resolveSchedule(raw.lr_schedule),
  };
  const invalid = def.invalid?.(resolved);
  if (invalid) bad(invalid);
  return resolved;
}

function resolveSchedule(raw: unknown): Required<ScheduleConfig> {
  if (raw === null || typeof raw !== 'object') return bad(`optimizer.lr_schedule: expected an object, got ${describeValue(raw)}`);
  const s = raw as Record<string, unknown>;
  const positiveInt = (name: string, v: unknown, fallback?: number) => {
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) bad(`optimizer.lr_schedule.${name}: expected a positive integer, got ${describeValue(v)}`);
    return v as number;
  };
  if (s.name === 'step') return { name: 'step', step_size: positiveInt('step_size', s.step_size), gamma: num('lr_schedule.gamma', s.gamma, 0.1) };
  if (s.name === 'cosine') return { name: 'cosine', T_max: positiveInt('T_max', s.T_max), eta_min: num('lr_schedule.eta_min', s.eta_min, 0) };
  if (s.name === 'linear') {
    return {
      name: 'linear',
      start_factor: num('lr_schedule.start_factor', s.start_factor, 1 / 3, (x) => x > 0 && x <= 1),
      end_factor: num('lr_schedule.end_factor', s.end_factor, 1, (x) => x >= 0 && x <= 1),
      total_iters: positiveInt('total_iters', s.total_iters, 5),
    };
  }
  return bad(`optimizer.lr_schedule.name: expected "step", "cosine" or "linear", got ${describeValue(s.name)}`);
}

/**
 * The learning rate of optimizer step k (k = 0 for the first), as PyTorch's scheduler gives it.
 * CosineAnnealingLR is its closed form, which PyTorch's recursive form equals for k ≤ T_max.
 */
export function learningRate(opt: OptimizerConfig, k: number): number {
  const s = opt.lr_schedule;
  if (!s) return opt.lr;
  if (s.name === 'step') return opt.lr * s.gamma ** Math.floor(k / s.step_size);
  if (s.name === 'cosine') return s.eta_min + ((opt.lr - s.eta_min) * (1 + Math.cos((Math.PI * k) / s.T_max))) / 2;
  return opt.lr * (s.start_factor + ((s.end_factor - s.start_factor) * Math.min(k, s.total_iters)) / s.total_iters);
}

export function optimizerState(n: number): OptimizerState {
  return { step: 0, a: new Float64Array(n), b: new Float64Array(n), c: new Float64Array(n) };
}

/** The global L2 norm of the gradients, as clip_grad_norm_ returns it (before clipping). */
export function gradNorm(grad: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < grad.length; i++) s += grad[i] * grad[i];
  return Math.sqrt(s);
}

/**
 * One step in place on a flat parameter vector and its gradient (clipping included); returns the
 * gradient norm clip_grad_norm_ would return (the norm after value clipping, before norm clipping).
 */
export function referenceStep(opt: OptimizerConfig, state: OptimizerState, p: Float64Array, gradIn: ArrayLike<number>): number {
  const g = Float64Array.from(gradIn);
  if (opt.clip_grad_value !== undefined) for (let i = 0; i < g.length; i++) g[i] = Math.min(Math.max(g[i], -opt.clip_grad_value), opt.clip_grad_value);
  const norm = gradNorm(g);
  // clip_grad_norm_: g · max_norm / (norm + 1e-6), applied only when that factor is below 1.
  if (opt.clip_grad_norm !== undefined) {
    const coef = opt.clip_grad_norm / (norm + 1e-6);
    if (coef < 1) for (let i = 0; i < g.length; i++) g[i] *= coef;
  }
  const lr = learningRate(opt, state.step);
  state.step++;
  const def = OPTIMIZERS[opt.name];
  for (let i = 0; i < p.length; i++) p[i] = def.update(opt, state, i, p[i], g[i], state.step, lr);
  return norm;
}

/** The GPU kernel's selection for an optimizer: the registry's code and the variant flags. */
export function optimizerKernel(opt: OptimizerConfig): OptimizerKernel {
  return { code: OPTIMIZERS[opt.name].wgsl.code, nesterov: opt.nesterov, amsgrad: opt.amsgrad, centered: opt.centered };
}

/** The scalars of optimizer step `step` (from 1) for the GPU kernel, the schedule's rate included. */
export function optimizerScalars(opt: OptimizerConfig, step: number): OptimizerScalars {
  return {
    step,
    lr: learningRate(opt, step - 1),
    momentum: opt.momentum,
    dampening: opt.dampening,
    weightDecay: opt.weight_decay,
    betas: opt.betas,
    eps: opt.eps,
    alpha: opt.alpha,
    clipValue: opt.clip_grad_value ?? 0,
    maxNorm: opt.clip_grad_norm,
  };
}
