/**
 * A trainable model as a composition of layers (layers/): the model description (config.ts) made
 * into its layers — an optional embedding, the recurrent module, an optional linear head on the
 * sequence or on cat(h_n[−D:]) — the values they pass, and the loss (losses/) on the last value. The
 * training plan (plan.ts), the float64 reference (reference-model.ts), the flat parameter layout and
 * the initialisation all walk this list, so a model of other layers is another composition here.
 */
import { outputSize } from '../config.js';
import { type ModelConfig, type TrainableConfig, outputFeatures, rnnFeatures } from './config.js';
import { AttentionLayer } from './layers/attention/index.js';
import { attentionShape } from './layers/attention/score.js';
import { AttentiveDecoderLayer } from './layers/attentive-decoder/index.js';
import { BridgeLayer } from './layers/bridge/index.js';
import { EmbeddingLayer } from './layers/embedding/index.js';
import type { FlatSection, ParamSpec, TrainLayer } from './layers/layer.js';
import { LinearLayer } from './layers/linear/index.js';
import { RecurrentLayer } from './layers/recurrent/index.js';
import { LOSSES, type LossDefinition } from './losses/index.js';
import { type Seq2SeqConfig, encoderFeatures, isSeq2Seq } from './seq2seq-config.js';

export type { TrainableConfig } from './config.js';

/** The values a batch brings: float features or token ids (embedding → rnn → head), source and target ids (encoder–decoder). */
export type BatchValue = 'input' | 'tokens' | 'source' | 'target_in';

export interface TrainModel {
  readonly config: TrainableConfig;
  /** In forward order; each reads values written by the batch or an earlier layer. */
  readonly layers: readonly TrainLayer[];
  /**
   * The recurrent module whose state the trainer carries and whose dL/dh0, dL/dc0 and gradient flow it
   * reports: the model's rnn, or an encoder–decoder's encoder.
   */
  readonly recurrent: RecurrentLayer;
  /** The batch's values the layers read. */
  readonly inputs: readonly BatchValue[];
  /** The value the loss reads: the model's output. */
  readonly output: string;
  readonly loss: LossDefinition;
  /** Every parameter, in state_dict order. */
  readonly specs: readonly ParamSpec[];
  /** Each layer's section of the flat buffers, and their total size (floats). */
  readonly sections: readonly FlatSection[];
  readonly size: number;
}

const cache = new WeakMap<TrainableConfig, TrainModel>();

/** The composition of a (resolved) model description; the same object for the same description. */
export function trainModel(config: TrainableConfig): TrainModel {
  const known = cache.get(config);
  if (known) return known;
  const { layers, recurrent, inputs, output } = isSeq2Seq(config) ? seq2seqLayers(config) : sequenceLayers(config);
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
    inputs,
    output,
    loss: LOSSES[config.loss],
    specs: layers.flatMap((l) => l.parameters()),
    sections,
    size: at,
  };
  cache.set(config, model);
  return model;
}

type Composition = Pick<TrainModel, 'layers' | 'recurrent' | 'inputs' | 'output'>;

/** [embedding →] rnn [→ head]. */
function sequenceLayers(config: ModelConfig): Composition {
  const layers: TrainLayer[] = [];
  let value: string = config.embedding ? 'tokens' : 'input';
  const inputs = [value as BatchValue];
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
  return { layers, recurrent, inputs, output: value };
}

/**
 * source_embedding → encoder; target_embedding; [bridge]; decoder; attention (after) → head, or the
 * decoder with attention inside (before) → head. In the order PyTorch lists their parameters.
 */
function seq2seqLayers(config: Seq2SeqConfig): Composition {
  const He = encoderFeatures(config);
  const Hd = outputSize(config.decoder);
  const { score, placement, attention_size: A = 0, combine_size: C = 0 } = config.attention;
  const source = new EmbeddingLayer('source_embedding', config.source_embedding, 'source');
  const target = new EmbeddingLayer('target_embedding', config.target_embedding, 'target_in');
  const encoder = new RecurrentLayer('encoder', config.encoder, source.outputs[0], { sequence: 'source', streamBase: 0 });
  const bridge = config.bridge === 'copy' ? new BridgeLayer('bridge', config.encoder, encoder.outputs[2]) : undefined;
  const initial = bridge?.outputs[0];
  // The decoder's dropout streams follow the encoder's, so the two never draw the same masks.
  const streamBase = config.encoder.num_layers;
  const shape = attentionShape(score, Hd, He, A);
  const layers: TrainLayer[] = [source, target, encoder, ...(bridge ? [bridge] : [])];
  let value: string;
  if (placement === 'after') {
    const decoder = new RecurrentLayer('decoder', config.decoder, target.outputs[0], { sequence: 'target', initial, streamBase });
    const attention = new AttentionLayer('attention', shape, { name: 'combine', size: C }, decoder.outputs[0], encoder.outputs[0]);
    layers.push(decoder, attention);
    value = attention.outputs[0];
  } else {
    const decoder = new AttentiveDecoderLayer(
      'decoder',
      config.decoder,
      { name: 'attention', shape },
      target.outputs[0],
      encoder.outputs[0],
      initial,
      streamBase,
    );
    layers.push(decoder);
    value = decoder.outputs[0];
  }
  const head = new LinearLayer(
    'head',
    { in_features: placement === 'after' ? C : Hd, out_features: config.target_embedding.num_embeddings, bias: true },
    value,
  );
  layers.push(head);
  return { layers, recurrent: encoder, inputs: ['source', 'target_in'], output: head.outputs[0] };
}

/** The model's output features: the head's (a target vocabulary), or the recurrent module's. */
export function modelOutputFeatures(config: TrainableConfig): number {
  return isSeq2Seq(config) ? config.target_embedding.num_embeddings : outputFeatures(config);
}

/** Every parameter, in the order a PyTorch module with these attributes lists them. */
export function modelParameterSpecs(config: TrainableConfig): ParamSpec[] {
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
