/** nn.MSELoss (reduction 'mean'): the mean over all elements of (y − target)². */
import type { LossDefinition } from './loss.js';

export const mse: LossDefinition = {
  name: 'mse',
  targets: 'values',
  entryPoint: 'mse',
  scale: (target) => 1 / target.length,
  reference(y, target) {
    const n = y.length;
    const dy = new Float64Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const e = y[i] - target[i];
      sum += e * e;
      dy[i] = (2 * e) / n;
    }
    return { loss: sum / n, dy };
  },
};
