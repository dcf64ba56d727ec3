/**
 * Optimizers, gradient clipping and learning-rate schedules with torch.optim's update formulas and
 * defaults, as one description (`opt.json` of the CLI) and as a float64 reference update that the GPU
 * update kernel (shaders/optimizer.wgsl) is checked against. The optimizers themselves — arguments,
 * defaults, the kernel's code, the per-element update — are the registry in optimizers/. One step, in
 * PyTorch's usual loop order (with `l1`, the loss is L + λ·Σ|θ| and its gradient g + λ·sign(θ) before
 * any clipping, as `loss = criterion(…) + l1 * sum(p.abs().sum() …)` gives it):
 *   clip_grad_value_ (clip_grad_value) → clip_grad_norm_ (clip_grad_norm) → optimizer.step() →
 *   scheduler.step().
 * Schedules (stepped after each optimizer step, the rate used at step k is the schedule's at k):
 *   StepLR(step_size, gamma=0.1): lr₀·γ^⌊k/step_size⌋
 *   CosineAnnealingLR(T_max, eta_min=0): η_min + (lr₀ − η_min)(1 + cos(πk/T_max))/2
 *   LinearLR(start_factor=1/3, end_factor=1, total_iters=5): lr₀·(s + (e − s)·min(k, n)/n)
 *   ExponentialLR(gamma): lr₀·γ^k
 *   SequentialLR(schedulers, milestones): the i-th part from milestone i − 1, restarted there
 * and ReduceLROnPlateau(mode, factor, patience, threshold, threshold_mode, cooldown, min_lr, eps),
 * stepped with a validation loss instead (PlateauSchedule; fit does it after each validation).
 * test/train/schedules.test.ts checks every one against PyTorch's rates (test/fixtures/schedules).
 */
import { RnnError, describeValue } from '../errors.js';
import type { OptimizerKernel, OptimizerScalars } from '../gpu/ops/optimizer.js';
import { OPTIMIZERS, type OptimizerName, type OptimizerState, type UpdateArguments } from './optimizers/index.js';

export type { OptimizerName, OptimizerState } from './optimizers/index.js';

/** A schedule that is a function of the step alone (SequentialLR's parts). */
export type StepScheduleConfig =
  | { name: 'step'; step_size: number; gamma?: number }
  | { name: 'cosine'; T_max: number; eta_min?: number }
  | { name: 'linear'; start_factor?: number; end_factor?: number; total_iters?: number }
  | { name: 'exponential'; gamma: number };

export type ScheduleConfig =
  | StepScheduleConfig
  | { name: 'sequential'; schedulers: StepScheduleConfig[]; milestones: number[] }
  | {
      name: 'plateau';
      mode?: 'min' | 'max';
      factor?: number;
      patience?: number;
      threshold?: number;
      threshold_mode?: 'rel' | 'abs';
      cooldown?: number;
      min_lr?: number;
      eps?: number;
    };

type Resolved<S> = S extends { name: 'sequential' }
  ? { name: 'sequential'; schedulers: Array<Required<StepScheduleConfig>>; milestones: number[] }
  : Required<S>;
export type ResolvedSchedule = Resolved<ScheduleConfig>;

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
  /** λ of an L1 penalty λ·Σ|θ| added to the training loss (its gradient λ·sign(θ)), as a PyTorch user adds it by hand. */
  l1?: number;
}

/** Every field resolved to PyTorch's default: the updates' arguments (UpdateArguments), and the rest. */
export interface OptimizerConfig extends UpdateArguments {
  readonly name: OptimizerName;
  readonly lr: number;
  readonly clip_grad_value?: number;
  readonly clip_grad_norm?: number;
  /** The L1 penalty's λ (0: none). */
  readonly l1: number;
  readonly lr_schedule?: ResolvedSchedule;
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
  const own = ['name', 'lr', ...OPTIMIZERS[opt.name].keys, 'clip_grad_value', 'clip_grad_norm', 'lr_schedule', 'l1'];
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
  const known = ['name', 'lr', ...def.keys, 'clip_grad_value', 'clip_grad_norm', 'lr_schedule', 'l1'];
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
    l1: num('l1', raw.l1, 0),
    lr_schedule: raw.lr_schedule === undefined ? undefined : resolveSchedule(raw.lr_schedule),
  };
  const invalid = def.invalid?.(resolved);
  if (invalid) bad(invalid);
  return resolved;
}

const SCHEDULE_KEYS: Record<string, readonly string[]> = {
  step: ['step_size', 'gamma'],
  cosine: ['T_max', 'eta_min'],
  linear: ['start_factor', 'end_factor', 'total_iters'],
  exponential: ['gamma'],
  sequential: ['schedulers', 'milestones'],
  plateau: ['mode', 'factor', 'patience', 'threshold', 'threshold_mode', 'cooldown', 'min_lr', 'eps'],
};

function resolveSchedule(raw: unknown, where = 'optimizer.lr_schedule'): ResolvedSchedule {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return bad(`${where}: expected an object, got ${describeValue(raw)}`);
  const s = raw as Record<string, unknown>;
  const name = s.name as string;
  if (typeof name !== 'string' || !Object.hasOwn(SCHEDULE_KEYS, name))
    bad(
      `${where}.name: expected ${Object.keys(SCHEDULE_KEYS)
        .map((n) => `"${n}"`)
        .join(', ')}, got ${describeValue(s.name)}`,
    );
  const unknown = Object.keys(s).filter((k) => k !== 'name' && !SCHEDULE_KEYS[name].includes(k));
  if (unknown.length)
    bad(`${where}: unknown key(s) ${unknown.map((k) => describeValue(k)).join(', ')} for "${name}"; known keys are ${SCHEDULE_KEYS[name].join(', ')}`);
  const positiveInt = (key: string, v: unknown, fallback?: number, least = 1) => {
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < least)
      bad(`${where}.${key}: expected ${least === 1 ? 'a positive' : 'a non-negative'} integer, got ${describeValue(v)}`);
    return v as number;
  };
  const real = (key: string, fallback: number | undefined, check: (x: number) => boolean, expected: string) => {
    const v = s[key];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) bad(`${where}.${key}: expected ${expected}, got ${describeValue(v)}`);
    return v as number;
  };
  switch (name) {
    case 'step':
      return { name, step_size: positiveInt('step_size', s.step_size), gamma: real('gamma', 0.1, (x) => x >= 0, 'a number ≥ 0') };
    case 'cosine':
      return { name, T_max: positiveInt('T_max', s.T_max), eta_min: real('eta_min', 0, (x) => x >= 0, 'a number ≥ 0') };
    case 'linear':
      return {
        name,
        start_factor: real('start_factor', 1 / 3, (x) => x > 0 && x <= 1, 'a number in (0, 1]'),
        end_factor: real('end_factor', 1, (x) => x >= 0 && x <= 1, 'a number in [0, 1]'),
        total_iters: positiveInt('total_iters', s.total_iters, 5),
      };
    case 'exponential':
      return { name, gamma: real('gamma', undefined, (x) => x > 0, 'a number > 0') };
    case 'sequential': {
      const parts = s.schedulers;
      if (!Array.isArray(parts) || parts.length < 1) bad(`${where}.schedulers: expected a non-empty array of schedules, got ${describeValue(parts)}`);
      const schedulers = (parts as unknown[]).map((p, i) => {
        const r = resolveSchedule(p, `${where}.schedulers[${i}]`);
        if (r.name === 'sequential' || r.name === 'plateau')
          bad(`${where}.schedulers[${i}]: "${r.name}" cannot be a part of "sequential" (PyTorch's SequentialLR steps its parts by the step alone)`);
        return r as Required<StepScheduleConfig>;
      });
      const milestones = s.milestones;
      if (!Array.isArray(milestones) || milestones.length !== schedulers.length - 1)
        bad(`${where}.milestones: expected ${schedulers.length - 1} step(s), one fewer than the schedulers, got ${describeValue(milestones)}`);
      (milestones as unknown[]).forEach((m, i) => {
        positiveInt(`milestones[${i}]`, m);
        if (i > 0 && (m as number) <= (milestones as number[])[i - 1]) bad(`${where}.milestones: expected increasing steps, got ${describeValue(milestones)}`);
      });
      return { name, schedulers, milestones: [...(milestones as number[])] };
    }
    default: {
      const mode = s.mode ?? 'min';
      if (mode !== 'min' && mode !== 'max') bad(`${where}.mode: expected "min" or "max", got ${describeValue(s.mode)}`);
      const thresholdMode = s.threshold_mode ?? 'rel';
      if (thresholdMode !== 'rel' && thresholdMode !== 'abs') bad(`${where}.threshold_mode: expected "rel" or "abs", got ${describeValue(s.threshold_mode)}`);
      return {
        name: 'plateau',
        mode: mode as 'min' | 'max',
        factor: real('factor', 0.1, (x) => x > 0 && x < 1, 'a number in (0, 1)'),
        patience: positiveInt('patience', s.patience, 10, 0),
        threshold: real('threshold', 1e-4, (x) => x >= 0, 'a number ≥ 0'),
        threshold_mode: thresholdMode as 'rel' | 'abs',
        cooldown: positiveInt('cooldown', s.cooldown, 0, 0),
        min_lr: real('min_lr', 0, (x) => x >= 0, 'a number ≥ 0'),
        eps: real('eps', 1e-8, (x) => x >= 0, 'a number ≥ 0'),
      };
    }
  }
}

/**
 * The learning rate of optimizer step k (k = 0 for the first), as PyTorch's scheduler gives it, in
 * closed form: CosineAnnealingLR's (which PyTorch's recursive form equals for k ≤ T_max), ExponentialLR's
 * lr₀·γ^k, and SequentialLR's — the part whose milestone k has passed, at k less that milestone (PyTorch
 * restarts each part at its milestone with step(0)). ReduceLROnPlateau's rate is no function of k: the
 * trainer keeps it (PlateauSchedule), and this gives lr₀.
 */
export function learningRate(opt: OptimizerConfig, k: number): number {
  const s = opt.lr_schedule;
  return s && s.name !== 'plateau' ? scheduledRate(s, opt.lr, k) : opt.lr;
}

function scheduledRate(s: Exclude<ResolvedSchedule, { name: 'plateau' }>, lr: number, k: number): number {
  switch (s.name) {
    case 'step':
      return lr * s.gamma ** Math.floor(k / s.step_size);
    case 'cosine':
      return s.eta_min + ((lr - s.eta_min) * (1 + Math.cos((Math.PI * k) / s.T_max))) / 2;
    case 'linear':
      return lr * (s.start_factor + ((s.end_factor - s.start_factor) * Math.min(k, s.total_iters)) / s.total_iters);
    case 'exponential':
      return lr * s.gamma ** k;
    case 'sequential': {
      const i = s.milestones.filter((m) => m <= k).length;
      return scheduledRate(s.schedulers[i], lr, k - (i > 0 ? s.milestones[i - 1] : 0));
    }
  }
}

/** ReduceLROnPlateau's state, as PyTorch keeps it. */
export interface PlateauState {
  lr: number;
  best: number;
  badSteps: number;
  cooldownLeft: number;
}

/** ReduceLROnPlateau: the rate falls by `factor` when the observed metric stalls (PyTorch's step(metric)). */
export class PlateauSchedule {
  state: PlateauState;

  constructor(
    readonly config: Extract<ResolvedSchedule, { name: 'plateau' }>,
    lr: number,
  ) {
    this.state = { lr, best: config.mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY, badSteps: 0, cooldownLeft: 0 };
  }

  private better(a: number, best: number): boolean {
    const { mode, threshold_mode: tm, threshold: t } = this.config;
    if (mode === 'min') return tm === 'rel' ? a < best * (1 - t) : a < best - t;
    return tm === 'rel' ? a > best * (1 + t) : a > best + t;
  }

  /** One observation of the metric (a validation loss). */
  step(metric: number): void {
    const s = this.state;
    if (this.better(metric, s.best)) {
      s.best = metric;
      s.badSteps = 0;
    } else s.badSteps++;
    if (s.cooldownLeft > 0) {
      s.cooldownLeft--;
      s.badSteps = 0;
    }
    if (s.badSteps > this.config.patience) {
      const lower = Math.max(s.lr * this.config.factor, this.config.min_lr);
      if (s.lr - lower > this.config.eps) s.lr = lower;
      s.cooldownLeft = this.config.cooldown;
      s.badSteps = 0;
    }
  }
}

export function optimizerState(n: number): OptimizerState {
  return { step: 0, a: new Float64Array(n), b: new Float64Array(n), c: new Float64Array(n) };
}

/** The L1 penalty of a step: g += λ·sign(θ) in place (sign(0) = 0); returns λ·Σ|θ|, the loss's share. */
export function addL1(lambda: number, p: ArrayLike<number>, g: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    sum += Math.abs(p[i]);
    g[i] += lambda * Math.sign(p[i]);
  }
  return lambda * sum;
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
