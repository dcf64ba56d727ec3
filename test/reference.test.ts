// The float64 CPU reference (backend: 'cpu') against PyTorch float64 fixtures, every case.
import { describe, expect, it } from 'vitest';
import { createRnn } from '../src/rnn.js';
import { CPU_RTOL, expectClose } from './support/compare.js';
import { loadFixture, loadManifest } from './support/fixtures.js';
import { loadNodeBytes } from './support/node-fixtures.js';

const manifest = await loadManifest(loadNodeBytes);

describe('CPU reference vs PyTorch (float64)', () => {
  it('has fixtures to check', () => expect(manifest.cases.length).toBeGreaterThan(20));

  it.each(manifest.cases.map((c) => [c.name, c] as const))('%s', async (_name, meta) => {
    const f = await loadFixture(loadNodeBytes, meta);
    const rnn = await createRnn({ config: meta.config, weights: f.weights, backend: 'cpu' });
    const r = await rnn.forward(f.input, f.options);
    expect(r.output.data).toBeInstanceOf(Float64Array);
    expectClose('output', r.output, f.expected.output, CPU_RTOL);
    expectClose('h_n', r.h_n, f.expected.h_n, CPU_RTOL);
    if (f.expected.c_n) expectClose('c_n', r.c_n, f.expected.c_n, CPU_RTOL);
    else expect(r.c_n).toBeUndefined();
  });
});
