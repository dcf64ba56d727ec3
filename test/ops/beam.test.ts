// One step of beam search alone (recordBeamSelect, shaders/beam.wgsl), several steps in a row on random
// logits, against the float64 selection of src/train/decode.ts (selectStep): each step's tokens and
// parents, the next scores and input ids, the rows the states come from, the finished lists and when
// each row stops — at awkward sizes (V past the workgroup, K = 1 and 16, more beams than tokens).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.js';
import { contextFor, getDefaultDevice } from '../../src/gpu/device.js';
import { BEAM_DEAD, finishedCapacity, recordBeamSelect } from '../../src/gpu/ops/beam.js';
import { seededUniform } from '../../src/random.js';
import { selectStep } from '../../src/train/decode.js';
import { OpHarness, values } from './harness.js';

let ctx: GpuContext;
let h: OpHarness;
beforeAll(async () => {
  ctx = await contextFor(await getDefaultDevice());
  h = new OpHarness(ctx);
});
afterAll(() => h.dispose());

describe('beam op', () => {
  it.each([
    // B, K, V, max_length, eos
    [1, 1, 1, 3, 0],
    [3, 3, 257, 5, 2],
    [2, 16, 17, 6, 3],
    [4, 5, 3, 7, 1],
  ])('B = %i, K = %i, V = %i, %i steps, eos %i', async (B, K, V, L, eos) => run(B, K, V, L, eos, false));

  it('ties go to the earlier hypothesis, then the lower token (every logit equal)', async () => run(2, 3, 5, 3, 4, true));
});

/** `L` steps of the op on fresh logits (all equal with `ties`), each checked against the reference's. */
async function run(B: number, K: number, V: number, L: number, eos: number, ties: boolean): Promise<void> {
  const BK = B * K;
  const next = seededUniform(B * 100 + K * 10 + V);
  const o = { bos: 0, eos, maxLength: L, beam: K };
  const u32 = (n: number) => h.u32(new Uint32Array(n).fill(0xdeadbeef));
  const call = {
    label: 'beam',
    B,
    K,
    V,
    eos,
    maxLength: L,
    logits: h.tensor(new Float32Array(BK * V), [BK, V]),
    scores: h.tensor(
      Float32Array.from({ length: BK }, (_, r) => (r % K === 0 ? 0 : BEAM_DEAD)),
      [BK],
    ),
    counters: h.u32(new Uint32Array(4 * B)),
    finished: u32(3 * finishedCapacity(K) * B),
    tokens: u32(L * BK),
    parents: u32(L * BK),
    nextIds: u32(BK),
    gather: u32(BK),
  };
  // The reference's state.
  const want = { tokens: new Int32Array(L * BK), parents: new Int32Array(L * BK) };
  const scores = Float64Array.from({ length: BK }, (_, r) => (r % K === 0 ? 0 : Number.NEGATIVE_INFINITY));
  const finished = Array.from({ length: B }, () => [] as Array<{ score: number; t: number; parent: number }>);
  const stopped = new Int32Array(B).fill(-1);
  const command = recordBeamSelect(h, call);
  for (let t = 0; t < L; t++) {
    // Logits that make eos now and then the best (so rows finish at different steps).
    const logits = ties ? new Float32Array(BK * V) : Float32Array.from(values(next, BK * V), (v, i) => 3 * v + (i % V === eos ? 1.5 * next() : 0));
    ctx.device.queue.writeBuffer(call.logits.buffer, 0, logits);
    await h.run([command]);
    for (let b = 0; b < B; b++) if (stopped[b] < 0 && selectStep(b, t, K, V, logits, scores, o, { ...want, finished: finished[b] })) stopped[b] = t;
    const gotTokens = await h.read(call.tokens, L * BK);
    const tokens = new Uint32Array(gotTokens.buffer, gotTokens.byteOffset, L * BK);
    const parents = new Uint32Array((await h.read(call.parents, L * BK)).buffer, 0, L * BK);
    const gather = new Uint32Array((await h.read(call.gather, BK)).buffer, 0, BK);
    const nextIds = new Uint32Array((await h.read(call.nextIds, BK)).buffer, 0, BK);
    const got = await h.read(call.scores, BK);
    for (let b = 0; b < B; b++) {
      for (let k = 0; k < K; k++) {
        const r = b * K + k;
        if (stopped[b] >= 0 && stopped[b] < t) {
          expect(gather[r], `row ${b} stopped: its slots keep their states`).toBe(r);
          continue;
        }
        expect(tokens[t * BK + r], `t ${t} slot ${r} token`).toBe(want.tokens[t * BK + r]);
        expect(parents[t * BK + r], `t ${t} slot ${r} parent`).toBe(want.parents[t * BK + r]);
        expect(nextIds[r]).toBe(want.tokens[t * BK + r]);
        expect(gather[r]).toBe(scores[r] === Number.NEGATIVE_INFINITY ? r : b * K + want.parents[t * BK + r]);
        if (scores[r] === Number.NEGATIVE_INFINITY) expect(got[r]).toBeLessThanOrEqual(BEAM_DEAD);
        else expect(Math.abs(got[r] - scores[r])).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(scores[r])));
      }
    }
  }
  const counters = new Uint32Array((await h.read(call.counters, 4 * B)).buffer, 0, 4 * B);
  const words = await h.read(call.finished, 3 * finishedCapacity(K) * B);
  const bits = new Uint32Array(words.buffer, words.byteOffset, words.length);
  for (let b = 0; b < B; b++) {
    expect(counters[4 * b + 1], `row ${b} stopped`).toBe(1);
    expect(counters[4 * b + 3], `row ${b} stop step`).toBe(stopped[b]);
    expect(counters[4 * b + 2], `row ${b} finished count`).toBe(finished[b].length);
    finished[b].forEach((f, j) => {
      const at = (b * finishedCapacity(K) + j) * 3;
      expect(Math.abs(words[at] - f.score)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(f.score)));
      expect([bits[at + 1], bits[at + 2]]).toEqual([f.t, f.parent]);
    });
  }
}
