/**
 * Adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False):
 *   g += wd·p; m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²; v̂max = max(v̂max, v) (amsgrad);
 *   p −= lr/(1 − β1^t) · m / (√(v or v̂max)/√(1 − β2^t) + eps)
 * AdamW(lr=1e-3, betas, eps, weight_decay=1e-2, amsgrad): the same with p *= 1 − lr·wd first, not g += wd·p.
 */
import type { OptimizerDefinition, OptimizerState, StateNames, UpdateArguments } from './optimizer.js';

function adamUpdate(decoupled: boolean) {
  return (a: UpdateArguments, s: OptimizerState, i: number, p: number, g: number, t: number, lr: number): number => {
    let pi = p;
    let gi = g;
    if (decoupled) pi *= 1 - lr * a.weight_decay;
    else if (a.weight_decay !== 0) gi += a.weight_decay * pi;
    const [b1, b2] = a.betas;
    s.a[i] = b1 * s.a[i] + (1 - b1) * gi;
    s.b[i] = b2 * s.b[i] + (1 - b2) * gi * gi;
    let v = s.b[i];
    if (a.amsgrad) v = s.c[i] = Math.max(s.c[i], s.b[i]);
    return pi - (lr / (1 - b1 ** t)) * (s.a[i] / (Math.sqrt(v) / Math.sqrt(1 - b2 ** t) + a.eps));
  };
}

const KEYS = ['betas', 'eps', 'weight_decay', 'amsgrad'];

const adamState = (a: UpdateArguments): StateNames => ({ a: 'exp_avg', b: 'exp_avg_sq', c: a.amsgrad ? 'max_exp_avg_sq' : undefined });

export const adam: OptimizerDefinition = {
  name: 'adam',
  wgsl: { constant: 'ADAM', code: 1 },
  keys: KEYS,
  defaultLr: 1e-3,
  defaultWeightDecay: 0,
  update: adamUpdate(false),
  stateNames: adamState,
};

export const adamw: OptimizerDefinition = {
  name: 'adamw',
  wgsl: { constant: 'ADAMW', code: 2 },
  keys: KEYS,
  defaultLr: 1e-3,
  defaultWeightDecay: 1e-2,
  update: adamUpdate(true),
  stateNames: adamState,
};
