/**
 * The float64 reference of a whole model: its layers' references walked in order, each value handed
 * to the layers that read it, then the loss; and back, each layer given dL/d(its outputs) and adding
 * its parameters' gradients. The CPU trainer runs this; the GPU is checked against it.
 */
import type { PreparedBatch } from './batch.js';
import type { RecurrentReferenceCache } from './layers/recurrent/index.js';
import type { ReferenceContext } from './layers/layer.js';
import { type TrainModel, modelOutputFeatures } from './model.js';

export type Params = Readonly<Record<string, Float64Array>>;

export interface ModelForward {
  readonly ctx: ReferenceContext;
  /** Every value, by name. */
  readonly values: ReadonlyMap<string, ArrayLike<number>>;
  /** Each layer's cache, in layer order. */
  readonly caches: readonly unknown[];
  /** The model's output (the value the loss reads), time-major. */
  readonly y: Float64Array;
  /** The recurrent module's final states h_n (L·D, B, H_out), c_n (L·D, B, H). */
  readonly hN: Float64Array;
  readonly cN: Float64Array;
}

export function modelForward(model: TrainModel, params: Params, batch: PreparedBatch, options: { training: boolean; seed: number }): ModelForward {
  const ctx: ReferenceContext = { batch, params, training: options.training, seed: options.seed };
  const values = new Map<string, ArrayLike<number>>();
  // target_in travels in `tokens` (an encoder–decoder's batch, batch.ts).
  if (batch.tokens) values.set(model.inputs.includes('target_in') ? 'target_in' : 'tokens', batch.tokens);
  if (batch.x) values.set('input', batch.x);
  if (batch.source) values.set('source', batch.source);
  const caches: unknown[] = [];
  for (const layer of model.layers) {
    const r = layer.referenceForward(
      layer.inputs.map((name) => values.get(name)!),
      ctx,
    );
    r.outputs.forEach((v, i) => values.set(layer.outputs[i], v));
    caches.push(r.cache);
  }
  const rnn = caches[model.layers.indexOf(model.recurrent)] as RecurrentReferenceCache;
  return { ctx, values, caches, y: values.get(model.output) as Float64Array, hN: rnn.module.hN, cN: rnn.module.cN };
}

export interface ModelGradients {
  /** dL/dθ by state_dict name. */
  grads: Record<string, Float64Array>;
  /** dL/dh0 (L·D, B, H_out), dL/dc0 (L·D, B, H) of the recurrent module. */
  h0: Float64Array;
  c0: Float64Array;
  /** flow[l][t] = ‖∂L/∂h_t‖ of its layer l. */
  flow: Float64Array[];
}

/** Backpropagates dL/dy (the model's output) through the layers, newest first. */
export function modelBackward(model: TrainModel, forward: ModelForward, dy: Float64Array): ModelGradients {
  const grads: Record<string, Float64Array> = Object.fromEntries(model.specs.map((s) => [s.name, new Float64Array(s.shape.reduce((a, b) => a * b, 1))]));
  const dValues = new Map<string, Float64Array>([[model.output, dy]]);
  for (let i = model.layers.length - 1; i >= 0; i--) {
    const layer = model.layers[i];
    const dInputs = layer.referenceBackward(
      forward.caches[i],
      layer.outputs.map((name) => dValues.get(name)),
      grads,
      forward.ctx,
    );
    dInputs.forEach((d, k) => {
      if (!d) return;
      const name = layer.inputs[k];
      const held = dValues.get(name);
      if (held) for (let j = 0; j < d.length; j++) held[j] += d[j];
      else dValues.set(name, d);
    });
  }
  const rnn = forward.caches[model.layers.indexOf(model.recurrent)] as RecurrentReferenceCache;
  return { grads, ...rnn.gradients! };
}

/** The loss of the model on a batch, and dL/dy. */
export function modelLoss(model: TrainModel, forward: ModelForward): { loss: number; dy: Float64Array } {
  return model.loss.reference(forward.y, forward.ctx.batch.target, modelOutputFeatures(model.config));
}
