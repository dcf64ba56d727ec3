/**
 * Continuing a prompt with a trained language model (an embedding, a unidirectional rnn, a head on
 * every step, cross_entropy), sampling on the GPU: the prompt runs through the model's layers, then
 * each new token — drawn from the last position's logits with temperature and top-k (the sample op) —
 * goes back in as the next input, all recorded as one command list and submitted once; only the
 * generated tokens are read back. The layers are the model's own (model.ts), recorded by two inference
 * plans (plan.ts): one over the prompt, one over a single token, the recurrent state left in place from
 * one run to the next. The CPU reference does the same on the float64 model with the same random draws
 * (reference/rng.ts), so with τ = 0 (greedy) both give the same tokens.
 */
import { RnnError, describeValue } from '../errors.js';
import { gpuTensor } from '../gpu/gpu-tensor.js';
import { drawToken, recordSampleToken } from '../gpu/ops/sample.js';
import { type Command, type Recorder, clear, copy } from '../gpu/program.js';
import { PlanSizes } from '../gpu/state.js';
import type { PreparedBatch } from './batch.js';
import type { ModelConfig } from './config.js';
import { type TrainModel, trainModel } from './model.js';
import { type SharedBuffers, TrainPlan } from './plan.js';
import { modelForward } from './reference-model.js';

export interface SampleOptions {
  /** 0: greedy (the most likely token). Default 1. */
  temperature?: number;
  /** Draw among the k most likely tokens only (0: all). Default 0. */
  topK?: number;
  /** Tokens to generate. Default 100. */
  maxTokens?: number;
  seed?: number;
}

export interface ResolvedSample {
  temperature: number;
  topK: number;
  maxTokens: number;
  seed: number;
}

/** Checks that the model is a language model and the options make sense. */
export function resolveSample(model: ModelConfig, prompt: ArrayLike<number>, options: SampleOptions): ResolvedSample {
  if (!model.embedding || !model.head || model.head.on !== 'output' || model.loss !== 'cross_entropy' || model.rnn.bidirectional) {
    throw new RnnError(
      'OPTION_INVALID',
      'sample: needs a language model — an embedding, a unidirectional rnn and a head on every step, trained with cross_entropy',
    );
  }
  const V = model.embedding.num_embeddings;
  if (prompt.length < 1) throw new RnnError('TENSOR_INVALID', 'sample: the prompt must hold at least one token');
  for (let i = 0; i < prompt.length; i++) {
    if (!Number.isInteger(prompt[i]) || prompt[i] < 0 || prompt[i] >= V)
      throw new RnnError('TENSOR_INVALID', `sample: prompt[${i}] = ${describeValue(prompt[i])}: token ids must be in [0, ${V})`);
  }
  const r = { temperature: options.temperature ?? 1, topK: options.topK ?? 0, maxTokens: options.maxTokens ?? 100, seed: options.seed ?? 0 };
  if (!(r.temperature >= 0) || !Number.isFinite(r.temperature))
    throw new RnnError('OPTION_INVALID', `sample options.temperature: expected a number ≥ 0, got ${describeValue(options.temperature)}`);
  for (const k of ['topK', 'maxTokens', 'seed'] as const) {
    if (!Number.isSafeInteger(r[k]) || r[k] < (k === 'maxTokens' ? 1 : 0))
      throw new RnnError('OPTION_INVALID', `sample options.${k}: expected an integer ≥ ${k === 'maxTokens' ? 1 : 0}, got ${describeValue(options[k])}`);
  }
  return r;
}

/** The CPU reference: float64 forward over the prompt, then one step per token. */
export function sampleReference(config: ModelConfig, params: Readonly<Record<string, Float64Array>>, prompt: ArrayLike<number>, o: ResolvedSample): number[] {
  const model = trainModel(config);
  const O = config.head!.out_features;
  let state: { h0?: Float64Array; c0?: Float64Array } = {};
  let input = Int32Array.from(prompt);
  const out: number[] = [];
  for (let k = 0; k < o.maxTokens; k++) {
    const T = input.length;
    const batch: PreparedBatch = { T, B: 1, tokens: input, target: new Int32Array(T), ...state };
    const f = modelForward(model, params, batch, { training: false, seed: 0 });
    const next = drawToken(f.y.subarray((T - 1) * O, T * O), o, prompt.length + k);
    out.push(next);
    state = { h0: f.hN, c0: config.rnn.mode === 'LSTM' ? f.cN : undefined };
    input = Int32Array.of(next);
  }
  return out;
}

/**
 * The generation on the GPU: the commands, the buffer the tokens end up in ([cursor, prompt…,
 * generated…], u32), and `release` for the plans it made. `rec` owns the tokens and the sample op's uniforms.
 */
export function recordSampling(
  rec: Recorder,
  model: TrainModel,
  shared: SharedBuffers,
  P: number,
  o: ResolvedSample,
): { commands: Command[]; tokens: GPUBuffer; release: () => void } {
  const O = (model.config as ModelConfig).head!.out_features;
  const infer = { strategy: 'per-step', flow: false, purpose: 'infer' } as const;
  const prompt = new TrainPlan(rec.ctx, model, shared, P, 1, infer);
  const step = new TrainPlan(rec.ctx, model, shared, 1, 1, infer);
  const release = () => {
    prompt.release();
    step.release();
  };
  try {
    const tokens = gpuTensor(rec.storage('sample.tokens', 1 + P + o.maxTokens), [1 + P + o.maxTokens], 'u32');
    // The plans' lengths; their ids are copied in from the tokens buffer (the prompt's, then each draw).
    const batch = (T: number): PreparedBatch => ({ T, B: 1, tokens: new Int32Array(T), target: new Int32Array(T) });
    prompt.write(batch(P), { seed: 0, training: false, clipValue: 0 });
    step.write(batch(1), { seed: 0, training: false, clipValue: 0 });
    // One draw reads the prompt's last logits (copied out of its P rows), the other each single token's;
    // the position comes from the tokens buffer's cursor.
    const lastLogits = gpuTensor(rec.storage('sample.lastLogits', O), [O]);
    const draw = (logits: GPUBuffer, label: string) =>
      recordSampleToken(rec, { label, logits: gpuTensor(logits, [O]), O, tokens, temperature: o.temperature, topK: o.topK, seed: o.seed });
    const drawAfterPrompt = draw(lastLogits.buffer, 'sample.drawAfterPrompt');
    const drawAfterToken = draw(step.prediction.buffer, 'sample.draw');
    const stateBytes = new PlanSizes((model.config as ModelConfig).rnn, 1, 1).layerState * 4;
    const commands: Command[] = [
      // Zeros as the prompt's initial state; its ids.
      ...prompt.recurrent.initialStates.map((b) => clear(b, 0, stateBytes)),
      copy(tokens.buffer, 4, prompt.inputTensor('tokens').buffer, 0, 4 * P),
      ...prompt.forward,
      copy(prompt.prediction.buffer, (P - 1) * O * 4, lastLogits.buffer, 0, O * 4),
      drawAfterPrompt,
      // An inference plan leaves each layer's final state in its initial state: the single-token runs start from the prompt's.
      ...prompt.recurrent.finalStates.map((b, l) => copy(b, 0, step.recurrent.initialStates[l], 0, stateBytes)),
    ];
    for (let k = 1; k < o.maxTokens; k++)
      commands.push(copy(tokens.buffer, (P + k) * 4, step.inputTensor('tokens').buffer, 0, 4), ...step.forward, drawAfterToken);
    return { commands, tokens: tokens.buffer, release };
  } catch (e) {
    release();
    throw e;
  }
}
