/**
 * The encoder–decoder model with attention, described by one JSON object (time-major):
 *
 *   { "source_embedding": { "num_embeddings": 35, "embedding_dim": 64 },
 *     "target_embedding": { "num_embeddings": 13, "embedding_dim": 64 },
 *     "encoder": { "mode": "LSTM", "input_size": 64, "hidden_size": 64, "num_layers": 1, "bidirectional": false },
 *     "decoder": { "mode": "LSTM", "input_size": 64, "hidden_size": 64, "num_layers": 1 },
 *     "bridge": "copy",
 *     "attention": { "score": "dot", "placement": "after", "combine_size": 64 },
 *     "loss": "cross_entropy" }
 *
 * With B rows, S source and T target steps, D encoder directions, H_e = D·(encoder H_out) and H_d the
 * decoder's H_out: the encoder reads the embedded source packed by its lengths (its outputs H_s, its
 * final state); `bridge` "zeros" starts the decoder from zeros, "copy" its layer l from cat_d h_n[l·D + d]
 * (and c); the score is "dot" qᵀk, "general" qᵀ W k or "concat" vᵀ tanh(W_q q + W_k k), masked past
 * each row's source length; `placement` "after" (Luong) attends from each decoder output h_t and feeds
 * h̃_t = tanh(combine([c_t; h_t])) to the head, "before" (Bahdanau) attends from the top layer's h_{t−1}
 * and feeds [e_t; c_t] to the decoder, whose output the head reads. The loss is cross entropy over the
 * targets, −100 ignored. Parameters are named as a PyTorch module with attributes source_embedding,
 * target_embedding, encoder, decoder, attention, combine, head (in that order) would name them.
 */
import { type RnnConfig, type RnnConfigInput, numDirections, outputSize, resolveConfig } from '../config.js';
import { RnnError, describeValue } from '../errors.js';
import { checkKeys, fail, positive } from './config-checks.js';
import type { ScoreKind } from '../reference/attention.js';

export interface Seq2SeqConfigInput {
  source_embedding: { num_embeddings: number; embedding_dim: number };
  target_embedding: { num_embeddings: number; embedding_dim: number };
  encoder: RnnConfigInput;
  decoder: RnnConfigInput;
  bridge?: 'zeros' | 'copy';
  attention: { score: ScoreKind; placement?: 'after' | 'before'; combine_size?: number; attention_size?: number };
  loss?: 'cross_entropy';
}

export interface Seq2SeqConfig {
  readonly source_embedding: { readonly num_embeddings: number; readonly embedding_dim: number };
  readonly target_embedding: { readonly num_embeddings: number; readonly embedding_dim: number };
  readonly encoder: RnnConfig;
  readonly decoder: RnnConfig;
  readonly bridge: 'zeros' | 'copy';
  readonly attention: {
    readonly score: ScoreKind;
    readonly placement: 'after' | 'before';
    /** "after": the combine layer's width C. */
    readonly combine_size?: number;
    /** "concat": the score's hidden width A. */
    readonly attention_size?: number;
  };
  readonly loss: 'cross_entropy';
}

/** A description of an encoder–decoder (rather than an embedding → rnn → head model)? */
export function isSeq2SeqInput(input: unknown): boolean {
  return input !== null && typeof input === 'object' && ('encoder' in input || 'decoder' in input);
}

export function isSeq2Seq(config: object): config is Seq2SeqConfig {
  return 'encoder' in config;
}

function embedding(what: string, raw: unknown) {
  const e = checkKeys(what, raw, ['num_embeddings', 'embedding_dim']);
  return { num_embeddings: positive(`${what}.num_embeddings`, e.num_embeddings), embedding_dim: positive(`${what}.embedding_dim`, e.embedding_dim) };
}

function rnn(what: string, raw: unknown): RnnConfig {
  if (raw === undefined) fail(`${what}: missing (PyTorch constructor arguments of the recurrent module)`);
  let config: RnnConfig;
  try {
    config = resolveConfig(raw as RnnConfigInput);
  } catch (e) {
    throw e instanceof RnnError ? new RnnError('CONFIG_INVALID', `${what}: ${e.message.replace(/^config[.:]\s?/, '')}`, { cause: e }) : e;
  }
  if (config.batch_first) fail(`${what}.batch_first: the encoder–decoder is time-major (source [S, B], target [T, B]); leave batch_first false`);
  if (config.dropout > 0 && config.num_layers === 1)
    fail(`${what}.dropout: ${config.dropout} with num_layers 1 would do nothing (dropout applies between stacked layers)`);
  return config;
}

/** H_e: the encoder's output features, D·H_out. */
export function encoderFeatures(config: Seq2SeqConfig): number {
  return numDirections(config.encoder) * outputSize(config.encoder);
}

/** Checks an encoder–decoder description (every key, every size that must agree) and fills defaults. */
export function resolveSeq2SeqConfig(input: unknown): Seq2SeqConfig {
  const raw = checkKeys('model', input, ['source_embedding', 'target_embedding', 'encoder', 'decoder', 'bridge', 'attention', 'loss']);
  for (const key of ['source_embedding', 'target_embedding', 'encoder', 'decoder', 'attention']) if (raw[key] === undefined) fail(`model.${key}: missing`);
  const source = embedding('model.source_embedding', raw.source_embedding);
  const target = embedding('model.target_embedding', raw.target_embedding);
  const encoder = rnn('model.encoder', raw.encoder);
  const decoder = rnn('model.decoder', raw.decoder);
  if (decoder.bidirectional) fail('model.decoder.bidirectional: a decoder runs forward only; set it false');
  const He = numDirections(encoder) * outputSize(encoder);
  const Hd = outputSize(decoder);
  if (encoder.input_size !== source.embedding_dim)
    fail(`model.encoder.input_size must equal model.source_embedding.embedding_dim (${source.embedding_dim}), got ${encoder.input_size}`);
  const bridge = (raw.bridge ?? 'zeros') as 'zeros' | 'copy';
  if (bridge !== 'zeros' && bridge !== 'copy') fail(`model.bridge: expected "zeros" or "copy", got ${describeValue(bridge)}`);
  if (bridge === 'copy') {
    const D = numDirections(encoder);
    if (decoder.num_layers !== encoder.num_layers)
      fail(`model.bridge "copy": the decoder needs the encoder's ${encoder.num_layers} layer(s), it has ${decoder.num_layers}`);
    if (decoder.mode !== encoder.mode) fail(`model.bridge "copy": the decoder must be an ${encoder.mode} as the encoder is, it is an ${decoder.mode}`);
    if (encoder.proj_size || decoder.proj_size) fail('model.bridge "copy": not with proj_size (h and c would differ in width)');
    if (decoder.hidden_size !== D * encoder.hidden_size) {
      fail(
        `model.bridge "copy": decoder.hidden_size must be ${D}·encoder.hidden_size = ${D * encoder.hidden_size} (the encoder's directions side by side), got ${decoder.hidden_size}`,
      );
    }
  }
  const a = checkKeys('model.attention', raw.attention, ['score', 'placement', 'combine_size', 'attention_size']);
  const score = a.score as ScoreKind;
  if (score !== 'dot' && score !== 'general' && score !== 'concat')
    fail(`model.attention.score: expected "dot", "general" or "concat", got ${describeValue(a.score)}`);
  const placement = (a.placement ?? 'after') as 'after' | 'before';
  if (placement !== 'after' && placement !== 'before') fail(`model.attention.placement: expected "after" or "before", got ${describeValue(a.placement)}`);
  if (score === 'dot' && Hd !== He)
    fail(`model.attention.score "dot": the decoder's output (${Hd}) and the encoder's (${He}) must have one width; use "general" or "concat"`);
  const attention: { score: ScoreKind; placement: 'after' | 'before'; combine_size?: number; attention_size?: number } = { score, placement };
  if (score === 'concat') attention.attention_size = positive('model.attention.attention_size', a.attention_size);
  else if (a.attention_size !== undefined) fail(`model.attention.attention_size: only the "concat" score has one (the score is "${score}")`);
  if (placement === 'after') {
    attention.combine_size = a.combine_size === undefined ? Hd : positive('model.attention.combine_size', a.combine_size);
    if (decoder.input_size !== target.embedding_dim)
      fail(`model.decoder.input_size must equal model.target_embedding.embedding_dim (${target.embedding_dim}), got ${decoder.input_size}`);
  } else {
    if (a.combine_size !== undefined) fail('model.attention.combine_size: the "before" placement has no combine layer (the head reads the decoder)');
    if (decoder.recurrent_dropout > 0)
      fail(
        'model.decoder.recurrent_dropout: not with the "before" placement (its attentive recurrence runs in a kernel of its own); use the encoder\'s, or "after"',
      );
    if (decoder.input_size !== target.embedding_dim + He) {
      fail(
        `model.decoder.input_size must be target_embedding.embedding_dim + the encoder's ${He} output features = ${target.embedding_dim + He} with the "before" placement, got ${decoder.input_size}`,
      );
    }
  }
  if (raw.loss !== undefined && raw.loss !== 'cross_entropy')
    fail(`model.loss: an encoder–decoder trains with "cross_entropy", got ${describeValue(raw.loss)}`);
  return { source_embedding: source, target_embedding: target, encoder, decoder, bridge, attention, loss: 'cross_entropy' };
}
