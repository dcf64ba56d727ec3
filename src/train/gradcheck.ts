/**
 * Finite-difference check of the reference backward pass: every parameter element (and h0 / c0 where
 * given) nudged by ±ε, the loss's central difference compared with the analytic gradient. Relative
 * error per tensor, ‖analytic − numeric‖ / ‖numeric‖ (the absolute error where the numeric gradient is
 * zero). Meant for tiny models: it runs two forwards per element. ε = 1e-5: the error is then
 * rounding-limited at about 1e-7 (it grows as 1/ε below that, e.g. 2e-6 at 1e-6; truncation, ε², is
 * below 1e-9).
 */
import type { PreparedBatch } from './batch.js';
import type { TrainableConfig } from './config.js';
import { trainModel } from './model.js';
import { type Params, modelBackward, modelForward, modelLoss } from './reference-model.js';

interface TrainOptions {
  training: boolean;
  seed: number;
}

export function referenceLoss(config: TrainableConfig, params: Params, batch: PreparedBatch, options: TrainOptions): number {
  const model = trainModel(config);
  return modelLoss(model, modelForward(model, params, batch, options)).loss;
}

export interface GradcheckReport {
  /** The largest per-tensor relative error. */
  maxRelativeError: number;
  /** Per tensor: its relative error and element count. */
  tensors: Array<{ name: string; relativeError: number; elements: number }>;
}

export function gradcheck(config: TrainableConfig, params: Params, batch: PreparedBatch, options: TrainOptions, eps = 1e-5): GradcheckReport {
  const model = trainModel(config);
  const forward = modelForward(model, params, batch, options);
  const analytic = modelBackward(model, forward, modelLoss(model, forward).dy);
  const tensors: GradcheckReport['tensors'] = [];
  const check = (name: string, values: Float64Array, grad: Float64Array, loss: () => number) => {
    let diff = 0;
    let norm = 0;
    for (let i = 0; i < values.length; i++) {
      const keep = values[i];
      values[i] = keep + eps;
      const up = loss();
      values[i] = keep - eps;
      const down = loss();
      values[i] = keep;
      const numeric = (up - down) / (2 * eps);
      diff += (grad[i] - numeric) ** 2;
      norm += numeric ** 2;
    }
    tensors.push({ name, relativeError: Math.sqrt(diff / (norm || 1)), elements: values.length });
  };
  const copy: Record<string, Float64Array> = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Float64Array.from(v)]));
  for (const name of Object.keys(copy)) check(name, copy[name], analytic.grads[name], () => referenceLoss(config, copy, batch, options));
  if (batch.h0) {
    const h0 = Float64Array.from(batch.h0);
    check('h0', h0, analytic.h0, () => referenceLoss(config, copy, { ...batch, h0 }, options));
  }
  if (batch.c0) {
    const c0 = Float64Array.from(batch.c0);
    check('c0', c0, analytic.c0, () => referenceLoss(config, copy, { ...batch, c0 }, options));
  }
  return { maxRelativeError: Math.max(...tensors.map((t) => t.relativeError)), tensors };
}
