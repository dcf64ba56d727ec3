// Which cases of the GPU agreement suite headless Chromium runs (test/browser/selection.ts), checked on
// the suite's real case list without a GPU: Node runs all of them, Chromium fewer, and what Chromium
// leaves out is a model met again on another strategy, or one of the few NODE_ONLY cases.
import { describe, expect, it } from 'vitest';
import { NODE_ONLY, chromiumSelection, splitStrategy } from './browser/selection.js';
import { loadManifest } from './support/fixtures.js';
import { loadNodeBytes } from './support/node-fixtures.js';
import { trainingManifests } from './support/training-fixtures.js';
import { gpuAgreementCaseNames } from './suites/gpu-agreement.js';

const names = gpuAgreementCaseNames(await loadManifest(loadNodeBytes), await trainingManifests(loadNodeBytes));
const chosen = chromiumSelection(names).map((i) => names[i]);

/** The first word of a case's subject: fixture, random, stream, training, seq2seq, … */
const kindOf = (name: string) => splitStrategy(name).subject.split(' ')[0];
/** A fixture's mode, from its manifest name (`fixture gru_l2_bi_… [fused]` → gru). */
const fixtureMode = (name: string) => /^fixture (lstm|gru|rnn_tanh|rnn_relu)_/.exec(name)?.[1];

/** Each key's set of strategies among `list`'s tagged cases. */
function strategiesBy(list: readonly string[], key: (name: string) => string | undefined): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const name of list) {
    const { strategy } = splitStrategy(name);
    const k = key(name);
    if (!strategy || k === undefined) continue;
    out.set(k, (out.get(k) ?? new Set()).add(strategy));
  }
  return out;
}

const sorted = (m: Map<string, Set<string>>) => Object.fromEntries([...m].map(([k, s]) => [k, [...s].sort()]).sort());

describe('the Chromium selection of the GPU agreement suite', () => {
  it('is a strict subset of the cases Node runs, in the suite order', () => {
    console.info(`Chromium runs ${chosen.length} of the suite's ${names.length} cases`);
    expect(names.length).toBeGreaterThan(200); // the real suite, not an empty manifest
    expect(chosen.length).toBeLessThan(names.length);
    const indices = chromiumSelection(names);
    expect(indices).toEqual([...new Set(indices)].sort((a, b) => a - b));
  });

  it('runs every subject (a model, stream or fixture) exactly once, and every case without a strategy but the NODE_ONLY ones', () => {
    const subjects = names.filter((n) => !NODE_ONLY.includes(n)).map((n) => splitStrategy(n).subject);
    expect(chosen.map((n) => splitStrategy(n).subject)).toEqual([...new Set(subjects)]);
    expect(chosen.filter((n) => !splitStrategy(n).strategy)).toEqual(names.filter((n) => !splitStrategy(n).strategy && !NODE_ONLY.includes(n)));
    // Each NODE_ONLY name is one untagged case of the suite (a renamed case would otherwise run here again unnoticed).
    for (const name of NODE_ONLY) expect(names.filter((n) => n === name && !splitStrategy(n).strategy)).toEqual([name]);
  });

  it('gives every strategy to every mode of fixture, and to every kind with enough subjects to take turns', () => {
    expect(sorted(strategiesBy(chosen, fixtureMode))).toEqual(sorted(strategiesBy(names, fixtureMode)));
    expect(strategiesBy(names, fixtureMode).size).toBe(4);
    const kinds = ['fixture', 'random', 'stream', 'training'];
    const inKinds = (n: string) => (kinds.includes(kindOf(n)) ? kindOf(n) : undefined);
    const full = strategiesBy(names, inKinds);
    expect([...full.keys()].sort()).toEqual([...kinds].sort());
    expect(sorted(strategiesBy(chosen, inKinds))).toEqual(sorted(full));
    for (const strategies of full.values()) expect([...strategies].sort()).toEqual(['fused', 'per-step', 'persistent']);
  });

  it('splits a strategy tag wherever it sits in a name', () => {
    expect(splitStrategy('stream GRU 2 layers [fused]: chunks 1+4 equal one forward')).toEqual({
      subject: 'stream GRU 2 layers: chunks 1+4 equal one forward',
      strategy: 'fused',
    });
    expect(splitStrategy('threshold: persistent at the edge (H = 1024, B = 4)')).toEqual({ subject: 'threshold: persistent at the edge (H = 1024, B = 4)' });
  });
});
