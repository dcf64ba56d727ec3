// The embedding ops alone (shaders/embedding.wgsl): the gather of rows for token ids (from an offset
// into the ids, as sampling reads them, into an offset of the output), and the table's gradient — the positions of each token summed
// in a fixed order (csrOfTokens) — against the CPU counterparts at awkward sizes. The output and the
// gradient are poisoned: rows of tokens absent from the batch are left as they were, every other one written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.js';
import { contextFor, getDefaultDevice } from '../../src/gpu/device.js';
import {
  csrOfTokens,
  embeddingGatherReference,
  embeddingVectors,
  embeddingGradReference,
  recordEmbeddingGather,
  recordEmbeddingGrad,
} from '../../src/gpu/ops/embedding.js';
import { seededUniform } from '../../src/random.js';
import { OpHarness, values, variantContext } from './harness.js';

let ctx: GpuContext;
let h: OpHarness;
beforeAll(async () => {
  ctx = await contextFor(await getDefaultDevice());
  h = new OpHarness(ctx);
});
afterAll(() => h.dispose());

// Each case at offsets that are not multiples of 4 (the scalar entries), and at offsets that are (the
// `_vec4` entries where E is a multiple of 4: several vec4s per invocation on a software adapter, one
// as a GPU context records it).
const CASES: [number, number, number][] = [
  [1, 1, 1],
  [3, 17, 3],
  [17, 3, 257],
  [257, 5, 17],
  // E a multiple of 4: 1, 2, 4 and 16 vec4s per row
  [3, 4, 1],
  [17, 8, 257],
  [5, 12, 3],
  [3, 16, 17],
  [7, 64, 33],
  [2, 36, 5],
];
const UNALIGNED = { table: 5, ids: 2, out: 7, dx: 6, grad: 3 };
const ALIGNED = { table: 4, ids: 2, out: 8, dx: 4, grad: 0 };

async function gatherAndGradient(c: GpuContext, oh: OpHarness, V: number, E: number, positions: number, at: typeof ALIGNED) {
  const next = seededUniform(V * 31 + E + at.table);
  const table = values(next, V * E);
  const tokens = Int32Array.from({ length: positions }, () => Math.floor(next() * V));
  // The table at an offset in a bigger buffer (the flat parameters), the ids after a header, the rows
  // into a buffer from an offset (a direction's slice of the input projection).
  const tableT = oh.tensor(table, [V, E], 'f32', at.table);
  const ids = oh.u32([...Array(at.ids).fill(9), ...tokens]);
  const out = oh.tensor(new Float64Array(positions * E).fill(Number.NaN), [positions, E], 'f32', at.out);
  await oh.run([recordEmbeddingGather(oh, { label: 'gather', tokens: ids, first: at.ids, rows: positions, table: tableT, E, out })]);
  expect(Array.from(await oh.read(out, positions * E))).toEqual(Array.from(Float32Array.from(embeddingGatherReference(table.map(Math.fround), tokens, E))));

  const dx = values(next, positions * E);
  const grad = oh.tensor(new Float64Array(V * E).fill(Number.NaN), [V, E], 'f32', at.grad);
  const op = recordEmbeddingGrad(oh, { label: 'grad', positions, E, dx: oh.tensor(dx, [positions, E], 'f32', at.dx), grad });
  op.write(c.device.queue, tokens);
  await oh.run([op.command]);
  const got = await oh.read(grad, V * E);
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
  await oh.run([op.command]);
  expect(Array.from(await oh.read(grad, V * E))).toEqual(Array.from(got));
}

describe('embedding ops', () => {
  it.each(CASES)('V = %i, E = %i, %i positions, offsets not multiples of 4: gather and gradient match float64', async (V, E, positions) => {
    expect(embeddingVectors(ctx, E, [UNALIGNED.table, UNALIGNED.out])).toBe(0);
    await gatherAndGradient(ctx, h, V, E, positions, UNALIGNED);
  });

  it.each(CASES)('V = %i, E = %i, %i positions, offsets multiples of 4: gather and gradient match float64', async (V, E, positions) => {
    if (E % 4 === 0) expect(embeddingVectors(ctx, E, [ALIGNED.table, ALIGNED.out])).toBeGreaterThan(0);
    await gatherAndGradient(ctx, h, V, E, positions, ALIGNED);
  });

  it('takes several vec4s per invocation on a software adapter only', () => {
    expect(embeddingVectors({ ...ctx, isSoftwareAdapter: true } as GpuContext, 64, [0, 4])).toBe(16);
    expect(embeddingVectors({ ...ctx, isSoftwareAdapter: true } as GpuContext, 64, [0, 4], 4)).toBe(4);
    expect(embeddingVectors({ ...ctx, isSoftwareAdapter: true } as GpuContext, 36, [0, 4])).toBe(1);
    expect(embeddingVectors({ ...ctx, isSoftwareAdapter: false } as GpuContext, 64, [0, 4])).toBe(1);
    expect(embeddingVectors({ ...ctx, isSoftwareAdapter: true } as GpuContext, 64, [0, 2])).toBe(0);
  });

  it('refuses more distinct ids than the gradient was recorded for', () => {
    const op = recordEmbeddingGrad(h, {
      label: 'grad',
      positions: 4,
      E: 4,
      dx: h.tensor(new Float64Array(16), [4, 4]),
      grad: h.tensor(new Float64Array(8), [2, 4]),
    });
    expect(() => op.write(ctx.device.queue, [0, 1, 2, 0])).toThrow(/grad: 4 token ids \(3 distinct\).*table of 2 rows/);
    expect(() => op.write(ctx.device.queue, [0, 1, 0, 1, 0])).toThrow(/5 token ids .* 4 positions/);
    op.write(ctx.device.queue, [1, 1, 0, 1]);
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

describe('embedding ops as a GPU context records them (one vec4 per invocation)', () => {
  const gpuLike = variantContext('gpu-layouts');
  it.each(CASES.filter(([, E]) => E % 4 === 0))('V = %i, E = %i, %i positions', async (V, E, positions) => {
    await gatherAndGradient(gpuLike.ctx, gpuLike.harness, V, E, positions, ALIGNED);
  });
});
