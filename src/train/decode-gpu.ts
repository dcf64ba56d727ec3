/**
 * Decoding an encoder–decoder on the GPU (decode.ts has the rules), recorded as one submission:
 *   an inference plan of one target step over B·K rows (each source row repeated for its K
 *   hypotheses) runs every layer once — the source side (embedding, encoder, bridge) and the first
 *   step — then, for each later step, only the layers that read the target (the target embedding, the
 *   decoder from its own state, attention, the head); after each step the attention weights are copied
 *   into a history, the beam op (gpu/ops/beam.ts) picks each row's next hypotheses and writes their
 *   input ids into the plan's target_in, and every decoder layer's state is reordered to follow its
 *   hypothesis (a row gather: the embedding op's, by the parents' rows).
 * The tokens, parents, attention, finished lists and scores are read back once, at the end. Steps after
 * a row has stopped still run for it (their results are ignored): the submission's length does not
 * depend on the data.
 */
import { PlanSizes } from '../gpu/state.js';
import { type GpuTensor, gpuTensor } from '../gpu/gpu-tensor.js';
import { BEAM_DEAD, finishedCapacity, recordBeamSelect } from '../gpu/ops/beam.js';
import { recordEmbeddingGather } from '../gpu/ops/embedding.js';
import { type Command, copy } from '../gpu/program.js';
import type { OwningRecorder } from '../gpu/recorder.js';
import type { PreparedBatch } from './batch.js';
import type { BeamRecord, ResolvedDecode } from './decode.js';
import type { RecurrentGpu } from './layers/recurrent/gpu.js';
import { RecurrentLayer } from './layers/recurrent/index.js';
import { AttentiveDecoderGpu, type DecoderStatePart } from './layers/attentive-decoder/gpu.js';
import type { TrainModel } from './model.js';
import { type SharedBuffers, TrainPlan } from './plan.js';
import type { Seq2SeqConfig } from './seq2seq-config.js';

export interface RecordedDecode {
  readonly commands: Command[];
  /** Writes the plan's inputs and the beam's starting state; call before submitting. */
  write(): void;
  /** After the submission: the record, read back. */
  read(readU32: (t: GpuTensor, n: number) => Promise<Uint32Array>, readF32: (t: GpuTensor, n: number) => Promise<Float32Array>): Promise<BeamRecord>;
  release(): void;
}

export function recordDecode(
  rec: OwningRecorder,
  model: TrainModel,
  shared: SharedBuffers,
  source: PreparedBatch & { rows: number },
  o: ResolvedDecode,
): RecordedDecode {
  const { ctx } = rec;
  const B = source.rows;
  const K = o.beam;
  const BK = B * K;
  const S = source.S!;
  const L = o.maxLength;
  const V = (model.config as Seq2SeqConfig).target_embedding.num_embeddings;
  const plan = new TrainPlan(ctx, model, shared, 1, BK, { strategy: 'per-step', flow: false, purpose: 'infer' }, S);
  try {
    const u32 = (name: string, n: number) => gpuTensor(rec.storage(`decode.${name}`, n), [n], 'u32');
    const f32 = (name: string, n: number) => gpuTensor(rec.storage(`decode.${name}`, n), [n]);
    const beam = {
      label: 'decode.beam',
      B,
      K,
      V,
      eos: o.eos,
      maxLength: L,
      logits: gpuTensor(plan.prediction.buffer, [BK, V]),
      scores: f32('scores', BK),
      counters: u32('counters', 4 * B),
      finished: u32('finished', 3 * finishedCapacity(K) * B),
      tokens: u32('tokens', L * BK),
      parents: u32('parents', L * BK),
      nextIds: plan.inputTensor('target_in'),
      gather: u32('gather', BK),
    };
    const alphaHistory = f32('alpha', L * BK * S);
    const alpha = plan.gpuLayers.map((g) => (g as { alpha?: GpuTensor }).alpha).find((a) => a)!;

    // The layers each step runs: those that read the target, or a value made from it.
    const fromTarget = new Set<string>(['target_in']);
    const perStep = model.layers.map((layer) => {
      const reads = layer.inputs.some((name) => fromTarget.has(name));
      if (reads) for (const name of layer.outputs) fromTarget.add(name);
      return reads;
    });
    // Every state a decoder layer carries from step to step: rows of `width` floats from `offset`.
    const parts: DecoderStatePart[] = model.layers.flatMap((layer, i) => {
      if (!perStep[i]) return [];
      const gpu = plan.gpuLayers[i];
      if (gpu instanceof AttentiveDecoderGpu) return gpu.decoderStates;
      if (!(layer instanceof RecurrentLayer)) return [];
      const s = new PlanSizes(layer.config, 1, BK);
      if (s.D !== 1) throw new Error('decode: a decoder runs forward only');
      const widths = [s.hBytes / 4 / BK, s.cBytes / 4 / BK].filter((w) => w > 0); // floats per row: H_out, then H
      return (gpu as RecurrentGpu).initialStates.flatMap((buffer) => widths.map((width, k) => ({ buffer, offset: k * BK * widths[0], width })));
    });
    // Each part follows its hypothesis: its rows gathered by `gather` into a scratch (every row read
    // before any is written), copied back.
    const scratch = f32('stateScratch', Math.max(...parts.map((p) => BK * p.width)));
    const reorder: Command[] = parts.flatMap((p, k) => [
      recordEmbeddingGather(rec, {
        label: `decode.reorder${k}`,
        tokens: beam.gather,
        first: 0,
        rows: BK,
        table: gpuTensor(p.buffer, [BK, p.width], 'f32', p.offset),
        E: p.width,
        out: gpuTensor(scratch.buffer, [BK, p.width]),
      }),
      copy(scratch.buffer, 0, p.buffer, p.offset * 4, BK * p.width * 4),
    ]);

    const commands: Command[] = [];
    for (let t = 0; t < L; t++) {
      model.layers.forEach((_, i) => {
        if (t === 0) commands.push(...plan.layerForward[i]);
        else if (perStep[i]) {
          const once = new Set((plan.gpuLayers[i] as { initialCopies?: Command[] }).initialCopies ?? []);
          commands.push(...plan.layerForward[i].filter((c) => !once.has(c)));
        }
      });
      commands.push(
        copy(alpha.buffer, 0, alphaHistory.buffer, t * BK * S * 4, BK * S * 4),
        recordBeamSelect(rec, { ...beam, label: `decode.beam${t}` }),
        ...reorder,
      );
    }

    return {
      commands,
      write() {
        const q = ctx.device.queue;
        plan.write({ ...source, tokens: new Int32Array(BK).fill(o.bos) }, { seed: 0, training: false, clipValue: 0 });
        // One live hypothesis per row at first.
        q.writeBuffer(
          beam.scores.buffer,
          0,
          Float32Array.from({ length: BK }, (_, r) => (r % K === 0 ? 0 : BEAM_DEAD)),
        );
        q.writeBuffer(beam.counters.buffer, 0, new Uint32Array(4 * B));
      },
      async read(readU32, readF32) {
        const counters = await readU32(beam.counters, 4 * B);
        const cap = finishedCapacity(K);
        const finishedWords = await readU32(beam.finished, 3 * cap * B);
        const scoreOf = new Float32Array(finishedWords.buffer, finishedWords.byteOffset, finishedWords.length);
        const finished = Array.from({ length: B }, (_, b) =>
          Array.from({ length: Math.min(cap, counters[4 * b + 2]) }, (_, j) => {
            const at = (b * cap + j) * 3;
            return { score: scoreOf[at], t: finishedWords[at + 1], parent: finishedWords[at + 2] };
          }),
        );
        const scores = await readF32(beam.scores, BK);
        return {
          B,
          K,
          S,
          tokens: Int32Array.from(await readU32(beam.tokens, L * BK)),
          parents: Int32Array.from(await readU32(beam.parents, L * BK)),
          alpha: await readF32(alphaHistory, L * BK * S),
          finished,
          stopped: Int32Array.from({ length: B }, (_, b) => counters[4 * b + 3]),
          liveScores: Float64Array.from(scores, (s) => (s <= BEAM_DEAD ? Number.NEGATIVE_INFINITY : s)),
        };
      },
      release: () => plan.release(),
    };
  } catch (e) {
    plan.release();
    throw e;
  }
}
