/**
 * Drawing a language model's next token on the GPU (shaders/sample.wgsl), so a whole generation is
 * one submission: from the last position's logits, with temperature and top-k, a token drawn with the
 * counter-based uniform of its position, appended to `tokens` ([cursor, t_1, …]). drawToken is the
 * same draw on the host. Test: test/ops/sample.test.ts.
 */
import { uniform01 } from '../../reference/rng.js';
import { type GpuTensor, tensorBinding } from '../gpu-tensor.js';
import { type Command, type Recorder, dispatch, simplePipeline } from '../program.js';
import { SAMPLE_DIMS_FIELDS, packU32Struct } from '../uniforms.js';
import { f32Module } from './elementwise.js';
import sampleSource from '../../../shaders/sample.wgsl?raw';

export interface SampleDraw {
  /** 0: the most likely token (greedy). */
  readonly temperature: number;
  /** Draw among the k most likely tokens only (0: all). */
  readonly topK: number;
  readonly seed: number;
}

export interface SampleCall extends SampleDraw {
  readonly label: string;
  /** (O), at the start of its buffer (the kernel reads logits[0 … O)). */
  readonly logits: GpuTensor;
  readonly O: number;
  /** [cursor, t_1, …] (u32): the draw goes to tokens[cursor + 1], and cursor grows by one. */
  readonly tokens: GpuTensor;
}

export function recordSampleToken(rec: Recorder, call: SampleCall): Command {
  const { ctx } = rec;
  if (call.logits.offset !== 0) throw new Error(`${call.label}: the logits must start their buffer (offset ${call.logits.offset})`);
  const { pipeline, layout } = simplePipeline(ctx, f32Module(ctx, 'sample', sampleSource, ['train-rng']), 'sample', {}, [
    [0, 'uniform'],
    [1, 'read'],
    [2, 'write'],
  ]);
  const dims = rec.uniform(
    `${call.label}.dims`,
    packU32Struct(SAMPLE_DIMS_FIELDS, { O: call.O, top_k: call.topK, seed: call.seed, temperature: call.temperature }),
  );
  return dispatch(call.label, pipeline, [ctx.bindGroup(call.label, layout, [dims, tensorBinding(call.logits), tensorBinding(call.tokens)])], [1, 1, 1]);
}

/** The draw the kernel makes, on the host: a token index from logits, for the token at `cursor`. */
export function drawToken(logits: ArrayLike<number>, o: SampleDraw, cursor: number): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  if (o.temperature === 0) return best;
  let threshold = -3e38;
  if (o.topK > 0 && o.topK < logits.length) {
    let above = 3e38;
    for (let k = 0; k < o.topK; k++) {
      let m = -3e38;
      for (let i = 0; i < logits.length; i++) if (logits[i] < above) m = Math.max(m, logits[i]);
      above = m;
    }
    threshold = above;
  }
  let total = 0;
  for (let i = 0; i < logits.length; i++) if (logits[i] >= threshold) total += Math.exp((logits[i] - logits[best]) / o.temperature);
  const u = uniform01(o.seed, cursor, 0) * total;
  let run = 0;
  for (let i = 0; i < logits.length; i++) {
    if (logits[i] < threshold) continue;
    run += Math.exp((logits[i] - logits[best]) / o.temperature);
    if (run > u) return i;
  }
  return best;
}
