/**
 * nn.CrossEntropyLoss (reduction 'mean', ignore_index −100): the mean over the rows whose target is
 * not −100 of −log softmax(y)[target], softmax taken stably (max subtracted). With no row left the
 * mean is 0/0 = NaN, as in PyTorch.
 */
import { IGNORE_INDEX, type LossDefinition } from './loss.js';

export const crossEntropy: LossDefinition = {
  name: 'cross_entropy',
  targets: 'classes',
  entryPoint: 'cross_entropy',
  scale(target) {
    let counted = 0;
    for (let i = 0; i < target.length; i++) if (target[i] !== IGNORE_INDEX) counted++;
    return 1 / counted;
  },
  reference(y, target, O) {
    const dy = new Float64Array(y.length);
    const rows = y.length / O;
    let counted = 0;
    for (let r = 0; r < rows; r++) if (target[r] !== IGNORE_INDEX) counted++;
    let sum = 0;
    for (let r = 0; r < rows; r++) {
      if (target[r] === IGNORE_INDEX) continue;
      let max = Number.NEGATIVE_INFINITY;
      for (let o = 0; o < O; o++) max = Math.max(max, y[r * O + o]);
      let z = 0;
      for (let o = 0; o < O; o++) z += Math.exp(y[r * O + o] - max);
      const logZ = Math.log(z) + max;
      sum += logZ - y[r * O + target[r]];
      for (let o = 0; o < O; o++) dy[r * O + o] = (Math.exp(y[r * O + o] - logZ) - (o === target[r] ? 1 : 0)) / counted;
    }
    return { loss: sum / counted, dy };
  },
};
