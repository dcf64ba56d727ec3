/**
 * SGD(lr, momentum=0, dampening=0, weight_decay=0, nesterov=False):
 *   g += wd·p; buf = g (first step) or momentum·buf + (1 − dampening)·g;
 *   g = nesterov ? g + momentum·buf : buf (with momentum ≠ 0); p −= lr·g
 */
import type { OptimizerDefinition } from './optimizer.js';

export const sgd: OptimizerDefinition = {
  name: 'sgd',
  wgsl: { constant: 'SGD', code: 0 },
  keys: ['momentum', 'dampening', 'nesterov', 'weight_decay'],
  defaultLr: undefined,
  defaultWeightDecay: 0,
  invalid: (a) =>
    a.nesterov && (a.momentum <= 0 || a.dampening !== 0) ? 'optimizer.nesterov: needs momentum > 0 and dampening 0 (as in torch.optim.SGD)' : undefined,
  update(a, s, i, p, g, t, lr) {
    let gi = g;
    if (a.weight_decay !== 0) gi += a.weight_decay * p;
    if (a.momentum !== 0) {
      s.a[i] = t === 1 ? gi : a.momentum * s.a[i] + (1 - a.dampening) * gi;
      gi = a.nesterov ? gi + a.momentum * s.a[i] : s.a[i];
    }
    return p - lr * gi;
  },
  stateNames: (a) => ({ a: a.momentum !== 0 ? 'momentum_buffer' : undefined }),
};
