// The embedding ops alone (shaders/embedding.wgsl): the gather of rows for token ids (from an offset
// into the ids, as sampling reads them, into an offset of the output), and the table's gradient — the positions of each token summed
// in a fixed order (csrOfTokens) — against the CPU counterparts at awkward sizes. The output and the
// gradient are poisoned: rows of tokens absent from the batch are left as they were, every other one written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.js';
import { contextFor, getDefaultDevice } from '../../src/gpu/device.js';
import { csrOfTokens, embeddingGatherReference, embeddingGradReference, recordEmbeddingGather, recordEmbeddingGrad } from '../../src/gpu/ops/embedding.js';
import { seededUniform } from '../../src/random.js';
import { OpHarness, values } from './harness.js';

let ctx: GpuContext;
let h: OpHarness;
beforeAll(async () => {
  ctx = await contextFor(await getDefaultDevice());
  h = new OpHarness(ctx);
});
afterAll(() => h.dispose());

describe('embedding ops', () => {
  it.each([
    [1, 1, 1],
    [3, 17, 3],
    [17, 3, 257],
    [257, 5, 17],
    // Four columns per invocation (E a multiple of 4)
    [3, 4, 1],
    [17, 8, 257],
    [5, 12, 3],
  ])('V = %i, E = %i, %i positions: gather and gradient match float64', async (V, E, positions) => {
    const next = seededUniform(V * 31 + E);
    const table = values(next, V * E);
    const tokens = Int32Array.from({ length: positions }, () => Math.floor(next() * V));
    // The table at an offset in a bigger buffer (the flat parameters), the ids after a 2-word header,
    // the rows into a buffer from an offset (a direction's slice of the input projection).
    const tableT = h.tensor(table, [V, E], 'f32', 5);
    const ids = h.u32([9, 9, ...tokens]);
    const out = h.tensor(new Float64Array(positions * E).fill(Number.NaN), [positions, E], 'f32', 7);
    await h.run([recordEmbeddingGather(h, { label: 'gather', tokens: ids, first: 2, rows: positions, table: tableT, E, out })]);
    expect(Array.from(await h.read(out, positions * E))).toEqual(Array.from(Float32Array.from(embeddingGatherReference(table.map(Math.fround), tokens, E))));

    const dx = values(next, positions * E);
    const grad = h.tensor(new Float64Array(V * E).fill(Number.NaN), [V, E], 'f32', 3);
    const op = recordEmbeddingGrad(h, { label: 'grad', positions, E, dx: h.tensor(dx, [positions, E], 'f32', 6), grad });
    op.write(ctx.device.queue, tokens);
    await h.run([op.command]);
    const got = await h.read(grad, V * E);
    const want = embeddingGradReference(Float32Array.from(dx), tokens, V, E);
    const present = new Set(tokens);
    for (let v = 0; v < V; v++) {
      for (let e = 0; e < E; e++) {
        const i = v * E + e;
        if (!present.has(v)) expect(got[i], `row ${v} (absent) left as it was`).toBeNaN();
        else expect(Math.abs(got[i] - want[i]), `grad[${v}, ${e}]`).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(want[i])));
      }
    }
    // The same bits on a second run: a fixed order, no atomics.
    await h.run([op.command]);
    expect(Array.from(await h.read(grad, V * E))).toEqual(Array.from(got));
  });

  it('gathers the last token of a generated sequence [cursor, t_1, …]', async () => {
    const E = 3;
    const table = Float64Array.from({ length: 4 * E }, (_, i) => i);
    const out = h.tensor(new Float64Array(E).fill(Number.NaN), [1, E]);
    await h.run([recordEmbeddingGather(h, { label: 'last', tokens: h.u32([3, 0, 1, 2, 0]), first: 'last', rows: 1, table: h.tensor(table, [4, E]), E, out })]);
    expect(Array.from(await h.read(out, E))).toEqual([6, 7, 8]); // tokens[3] = 2
  });

  it('csrOfTokens groups positions by token, in order', () => {
    const { ids, words } = csrOfTokens([2, 0, 2, 1, 0]);
    expect(ids).toBe(3);
    expect(Array.from(words)).toEqual([0, 1, 2, /* starts */ 0, 2, 3, 5, /* order */ 1, 4, 3, 0, 2]);
  });
});
