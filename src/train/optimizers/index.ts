/** The optimizers, by the name `optimizer.name` gives (torch.optim's class, lower case). */
import { adam, adamw } from './adam.js';
import type { OptimizerDefinition } from './optimizer.js';
import { rmsprop } from './rmsprop.js';
import { sgd } from './sgd.js';

export const OPTIMIZERS = { sgd, adam, adamw, rmsprop } as const satisfies Record<string, OptimizerDefinition>;

export type OptimizerName = keyof typeof OPTIMIZERS;

export type { OptimizerDefinition, OptimizerState, UpdateArguments } from './optimizer.js';
