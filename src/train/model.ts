/**
 * A trainable model as a composition of layers (layers/): the model description (config.ts) made
 * into its layers — an optional embedding, the recurrent module, an optional linear head on the
 * sequence or on cat(h_n[−D:]) — the values they pass, and the loss (losses/) on the last value. The
 * training plan (plan.ts), the float64 reference (reference-model.ts), the flat parameter layout and
 * the initialisation all walk this list, so a model of other layers is another composition here.
 */
import { LOSSES, type LossDefinition } from './losses/index.js';
import { type ModelConfig, rnnFeatures } from './config.js';
import { EmbeddingLayer } from './layers/embedding/index.js';
import type { FlatSection, ParamSpec, TrainLayer } from './layers/layer.js';
import { LinearLayer } from './layers/linear/index.js';
import { RecurrentLayer } from './layers/recurrent/index.js';

export interface TrainModel {
  readonly config: ModelConfig;
  /** In forward order; each reads values written by the batch or an earlier layer. */
  readonly layers: readonly TrainLayer[];
  /** The recurrent module: the state the trainer carries, dL/dh0, dL/dc0 and the gradient flow are its. */
  readonly recurrent: RecurrentLayer;
  /** The batch's value the first layer reads: token ids or float features. */
  readonly input: 'tokens' | 'input';
  /** The value the loss reads: the model's output. */
  readonly output: string;
  readonly loss: LossDefinition;
  /** Every parameter, in state_dict order. */
  readonly specs: readonly ParamSpec[];
  /** Each layer's section of the flat buffers, and their total size (floats). */
  readonly sections: readonly FlatSection[];
  readonly size: number;
}

const cache = new WeakMap<ModelConfig, TrainModel>();

/** The composition of a (resolved) model description; the same object for the same description. */
export function trainModel(config: ModelConfig): TrainModel {
  const known = cache.get(config);
  if (known) return known;
  const layers: TrainLayer[] = [];
  let value: string = config.embedding ? 'tokens' : 'input';
  const input = value as TrainModel['input'];
  if (config.embedding) {
    const embedding = new EmbeddingLayer('embedding', config.embedding);
    layers.push(embedding);
    value = embedding.outputs[0];
  }
  const recurrent = new RecurrentLayer('rnn', config.rnn, value);
  layers.push(recurrent);
  value = recurrent.outputs[0];
  if (config.head) {
    const head = new LinearLayer(
      'head',
      { in_features: rnnFeatures(config), out_features: config.head.out_features, bias: config.head.bias },
      recurrent.outputs[config.head.on === 'h_n' ? 1 : 0],
    );
    layers.push(head);
    value = head.outputs[0];
  }
  const sections: FlatSection[] = [];
  let at = 0;
  for (const layer of layers) {
    const section = layer.section(at);
    sections.push(section);
    at += section.size;
  }
  const model: TrainModel = {
    config,
    layers,
    recurrent,
    input,
    output: value,
    loss: LOSSES[config.loss],
    specs: layers.flatMap((l) => l.parameters()),
    sections,
    size: at,
  };
  cache.set(config, model);
  return model;
}

/** Every parameter, in the order a PyTorch module with these attributes lists them. */
export function modelParameterSpecs(config: ModelConfig): ParamSpec[] {
  return [...trainModel(config).specs];
}

/** A state_dict (by name) into the flat layout the GPU trainer keeps parameters, gradients and state in. */
export function packParameters(model: TrainModel, params: Readonly<Record<string, ArrayLike<number>>>): Float32Array {
  const flat = new Float32Array(model.size);
  for (const s of model.sections) s.pack(params, flat);
  return flat;
}

/** The flat layout back into a state_dict by name (Float32Array, PyTorch's layouts), in state_dict order. */
export function unpackParameters(model: TrainModel, flat: Float32Array): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = Object.assign({}, ...model.sections.map((s) => s.unpack(flat)));
  return Object.fromEntries(model.specs.map((s) => [s.name, out[s.name]]));
}
