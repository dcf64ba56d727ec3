// The sampling op alone (recordSampleToken, shaders/sample.wgsl) against drawToken, the same draw on
// the host: greedy, temperatures, top-k, at vocabulary sizes 1, 3, 17, 257, at several cursors; the
// token goes after the sequence so far and the cursor grows by one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.js';
import { contextFor, getDefaultDevice } from '../../src/gpu/device.js';
import { drawToken, recordSampleToken } from '../../src/gpu/ops/sample.js';
import { readBuffer } from '../../src/gpu/readback.js';
import { seededUniform } from '../../src/random.js';
import { OpHarness } from './harness.js';

let ctx: GpuContext;
let h: OpHarness;
beforeAll(async () => {
  ctx = await contextFor(await getDefaultDevice());
  h = new OpHarness(ctx);
});
afterAll(() => h.dispose());

describe('sample op', () => {
  it.each([1, 3, 17, 257])("O = %i: the host's draw, appended at the cursor", async (O) => {
    const next = seededUniform(O);
    const logits = Float32Array.from({ length: O }, () => 6 * next() - 3);
    const logitsT = h.tensor(logits, [O]);
    for (const draw of [
      { temperature: 0, topK: 0, seed: 1 },
      { temperature: 1, topK: 0, seed: 2 },
      { temperature: 0.7, topK: 3, seed: 3 },
      { temperature: 2, topK: 1, seed: 4 },
    ]) {
      for (const cursor of [0, 4, 9]) {
        const tokens = h.u32([cursor, ...new Array(12).fill(0xffffffff)]);
        await h.run([recordSampleToken(h, { label: 'sample', logits: logitsT, O, tokens, ...draw })]);
        const words = new Uint32Array((await readBuffer(ctx, 'sample.read', tokens.buffer, 13)).buffer);
        expect(words[0], 'cursor').toBe(cursor + 1);
        expect(words[cursor + 1], `${JSON.stringify(draw)} at ${cursor}`).toBe(drawToken(logits, draw, cursor));
      }
    }
  });
});
