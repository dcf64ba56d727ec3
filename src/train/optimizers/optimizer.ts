/**
 * What an optimizer is to the trainer: torch.optim's arguments and defaults, the value the GPU kernel
 * (shaders/optimizer.wgsl) selects it by — a named constant there, checked against `wgsl` by
 * test/ops/optimizer.test.ts — and its update of one element in float64, the reference the kernel is
 * tested against. Adding one is a file here, its entry in index.ts and its case in the shader.
 */

/** The per-element state every optimizer may use (zeros at the start): a, b, c of length n. */
export interface OptimizerState {
  /** Steps taken. */
  step: number;
  /** SGD momentum buffer / Adam m / RMSprop momentum buffer. */
  a: Float64Array;
  /** Adam v / RMSprop square average. */
  b: Float64Array;
  /** Adam max v (amsgrad) / RMSprop grad average (centered). */
  c: Float64Array;
}

/** The resolved arguments an update reads (every optimizer's, defaults filled). */
export interface UpdateArguments {
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  readonly weight_decay: number;
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly amsgrad: boolean;
  readonly alpha: number;
  readonly centered: boolean;
}

export interface OptimizerDefinition {
  /** torch.optim's class, lower case. */
  readonly name: string;
  /** The shader's constant that selects this update, and its value. */
  readonly wgsl: { readonly constant: string; readonly code: number };
  /** The constructor arguments torch.optim takes, besides lr. */
  readonly keys: readonly string[];
  /** torch.optim's default learning rate; undefined where it has none (SGD). */
  readonly defaultLr?: number;
  readonly defaultWeightDecay: number;
  /** A message for argument combinations torch.optim rejects, else undefined. */
  invalid?(a: UpdateArguments): string | undefined;
  /**
   * Element i's update at step t (from 1) with learning rate lr: returns the new parameter, given the
   * parameter p and its gradient g after clipping; updates state.a/b/c at i.
   */
  update(a: UpdateArguments, state: OptimizerState, i: number, p: number, g: number, t: number, lr: number): number;
  /** The state slots it keeps with these arguments, by torch.optim's state names (a checkpoint's tensors). */
  stateNames(a: UpdateArguments): StateNames;
}

/** Which of the slots a, b, c an optimizer keeps, and torch.optim's name for each. */
export type StateNames = Partial<Record<'a' | 'b' | 'c', string>>;
