/**
 * RMSprop(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False):
 *   g += wd·p; sq = α·sq + (1 − α)·g²; avg = sq (centered: sq − ga², ga = α·ga + (1 − α)·g);
 *   momentum: buf = momentum·buf + g/(√avg + eps), p −= lr·buf; else p −= lr·g/(√avg + eps)
 */
import type { OptimizerDefinition } from './optimizer.js';

export const rmsprop: OptimizerDefinition = {
  name: 'rmsprop',
  wgsl: { constant: 'RMSPROP', code: 3 },
  keys: ['alpha', 'eps', 'weight_decay', 'momentum', 'centered'],
  defaultLr: 1e-2,
  defaultWeightDecay: 0,
  update(a, s, i, p, g, _t, lr) {
    let gi = g;
    if (a.weight_decay !== 0) gi += a.weight_decay * p;
    s.b[i] = a.alpha * s.b[i] + (1 - a.alpha) * gi * gi;
    let avg = s.b[i];
    if (a.centered) {
      s.c[i] = a.alpha * s.c[i] + (1 - a.alpha) * gi;
      avg = s.b[i] - s.c[i] * s.c[i];
    }
    const denom = Math.sqrt(avg) + a.eps;
    if (a.momentum > 0) {
      s.a[i] = a.momentum * s.a[i] + gi / denom;
      return p - lr * s.a[i];
    }
    return p - (lr * gi) / denom;
  },
  stateNames: (a) => ({ a: a.momentum > 0 ? 'momentum_buffer' : undefined, b: 'square_avg', c: a.centered ? 'grad_avg' : undefined }),
};
