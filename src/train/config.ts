/**
 * The trainable model, described by one JSON object that the API, the CLI and the demo share:
 *
 *   { "embedding": { "num_embeddings": 65, "embedding_dim": 32 },            optional: token ids in
 *     "rnn": { "mode": "LSTM", "input_size": 32, "hidden_size": 128, … },    nn.RNN / nn.LSTM / nn.GRU
 *     "head": { "out_features": 65, "on": "output" },                       optional: nn.Linear
 *     "loss": "cross_entropy" }                                             or "mse"
 *
 * Parameters carry PyTorch's names, as a module with attributes `embedding`, `rnn` and `head` would:
 * `embedding.weight` (V, E), `rnn.weight_ih_l0` …, `head.weight` (O, D·H_out), `head.bias` (O).
 * `head.on`: "output" applies the head at every step ([T, B, O]); "h_n" to cat(h_n[-D:]) ([B, O]),
 * the last layer's final states of all directions — the sequence-classification idiom.
 */
import { type RnnConfig, type RnnConfigInput, numDirections, outputSize, resolveConfig } from '../config.js';
import { RnnError, describeValue } from '../errors.js';
import { checkKeys, fail, positive } from './config-checks.js';
import { LOSSES, type LossName } from './losses/index.js';
import { type Seq2SeqConfig, type Seq2SeqConfigInput, isSeq2SeqInput, resolveSeq2SeqConfig } from './seq2seq-config.js';

export type { LossName } from './losses/index.js';

export interface ModelConfigInput {
  embedding?: { num_embeddings: number; embedding_dim: number };
  rnn: RnnConfigInput;
  head?: { out_features: number; on?: 'output' | 'h_n'; bias?: boolean };
  loss: LossName;
}

export interface ModelConfig {
  readonly embedding?: { readonly num_embeddings: number; readonly embedding_dim: number };
  readonly rnn: RnnConfig;
  readonly head?: { readonly out_features: number; readonly on: 'output' | 'h_n'; readonly bias: boolean };
  readonly loss: LossName;
}

/** A model of either kind: embedding → rnn → head, or an encoder–decoder with attention (seq2seq-config.ts). */
export type TrainableConfig = ModelConfig | Seq2SeqConfig;
export type TrainableConfigInput = ModelConfigInput | Seq2SeqConfigInput;

/** Checks a model description of either kind (an encoder–decoder has `encoder` and `decoder`). */
export function resolveTrainableConfig(input: unknown): TrainableConfig {
  return isSeq2SeqInput(input) ? resolveSeq2SeqConfig(input) : resolveModelConfig(input);
}

/** Checks a model description and fills defaults (head.on "output", head.bias true). */
export function resolveModelConfig(input: unknown): ModelConfig {
  const raw = checkKeys('model', input, ['embedding', 'rnn', 'head', 'loss']);
  let embedding: ModelConfig['embedding'];
  if (raw.embedding !== undefined) {
    const e = checkKeys('model.embedding', raw.embedding, ['num_embeddings', 'embedding_dim']);
    embedding = {
      num_embeddings: positive('model.embedding.num_embeddings', e.num_embeddings),
      embedding_dim: positive('model.embedding.embedding_dim', e.embedding_dim),
    };
  }
  if (raw.rnn === undefined) fail('model.rnn: missing (PyTorch constructor arguments of the recurrent module)');
  let rnn: RnnConfig;
  try {
    rnn = resolveConfig(raw.rnn as RnnConfigInput);
  } catch (e) {
    throw e instanceof RnnError ? new RnnError('CONFIG_INVALID', `model.rnn: ${e.message.replace(/^config[.:]\s?/, '')}`, { cause: e }) : e;
  }
  // PyTorch warns and trains on; here the option that would do nothing is refused.
  if (rnn.dropout > 0 && rnn.num_layers === 1) {
    fail(
      `model.rnn.dropout: ${rnn.dropout} with num_layers 1 would do nothing (dropout applies between stacked layers, as in PyTorch, which warns); use num_layers ≥ 2 or dropout 0`,
    );
  }
  if (embedding && rnn.input_size !== embedding.embedding_dim) {
    fail(`model.rnn.input_size must equal model.embedding.embedding_dim (${embedding.embedding_dim}), got ${rnn.input_size}`);
  }
  let head: ModelConfig['head'];
  if (raw.head !== undefined) {
    const h = checkKeys('model.head', raw.head, ['out_features', 'on', 'bias']);
    const on = h.on ?? 'output';
    if (on !== 'output' && on !== 'h_n') fail(`model.head.on: expected "output" or "h_n", got ${describeValue(on)}`);
    if (h.bias !== undefined && typeof h.bias !== 'boolean') fail(`model.head.bias: expected true or false, got ${describeValue(h.bias)}`);
    head = { out_features: positive('model.head.out_features', h.out_features), on: on as 'output' | 'h_n', bias: (h.bias as boolean | undefined) ?? true };
  }
  if (typeof raw.loss !== 'string' || !Object.hasOwn(LOSSES, raw.loss)) {
    fail(
      `model.loss: expected ${Object.keys(LOSSES)
        .map((k) => `"${k}"`)
        .join(' or ')}, got ${describeValue(raw.loss)}`,
    );
  }
  return { embedding, rnn, head, loss: raw.loss as LossName };
}

/** Features the recurrent module produces per step: D·H_out. */
export function rnnFeatures(config: ModelConfig): number {
  return numDirections(config.rnn) * outputSize(config.rnn);
}

/** The model's output features (the head's, or the recurrent module's when there is no head). */
export function outputFeatures(config: ModelConfig): number {
  return config.head ? config.head.out_features : rnnFeatures(config);
}
