/** The losses, by the name `model.loss` gives. */
import { crossEntropy } from './cross-entropy.js';
import type { LossDefinition } from './loss.js';
import { mse } from './mse.js';

export const LOSSES = { mse, cross_entropy: crossEntropy } as const satisfies Record<string, LossDefinition>;

export type LossName = keyof typeof LOSSES;

export { IGNORE_INDEX, type LossDefinition } from './loss.js';
