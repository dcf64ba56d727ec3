// The op tests' case selection (test/support/pipeline-cover.ts): on any product of constants it keeps
// every fact the whole product reaches, and it keeps whole pipelines.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pipelineCover, type Specialisation } from './support/pipeline-cover.js';

interface Toy {
  readonly entry: number;
  readonly p: number;
  readonly q: number;
  readonly r: boolean;
  readonly width: number;
  /** Not in the specialisation: a size, say, that only the case's own facts name. */
  readonly size: number;
}
const specialisation = (c: Toy): Specialisation => ({ entryPoint: `e${c.entry}`, constants: { P: c.p, Q: c.q, R: c.r, WIDTH: c.width } });
const facts = (c: Toy) => [`size ${c.size} with p ${c.p}`];
const key = (c: Toy) => JSON.stringify(specialisation(c));

/** What a set of cases reaches: their own facts, each width, and every pair of the other settings. */
function reached(cases: readonly Toy[]): Set<string> {
  const out = new Set<string>();
  for (const c of cases) {
    for (const fact of facts(c)) out.add(fact);
    out.add(`width ${c.width}`);
    const settings = [`entry ${c.entry}`, `p ${c.p}`, `q ${c.q}`, `r ${c.r}`];
    for (const a of settings) for (const b of settings) if (a < b) out.add(`${a} & ${b}`);
  }
  return out;
}

const toy = fc.record({
  entry: fc.integer({ min: 0, max: 1 }),
  p: fc.integer({ min: 0, max: 3 }),
  q: fc.integer({ min: 0, max: 2 }),
  r: fc.boolean(),
  width: fc.integer({ min: 1, max: 3 }),
  size: fc.integer({ min: 0, max: 4 }),
});

describe('pipelineCover', () => {
  it('reaches what the whole product reaches, on whole pipelines, in case order', () => {
    fc.assert(
      fc.property(fc.array(toy, { minLength: 1, maxLength: 60 }), (cases) => {
        const kept = pipelineCover(cases, specialisation, facts, ['WIDTH']);
        expect(reached(kept)).toEqual(reached(cases));
        const keptKeys = new Set(kept.map(key));
        expect(kept).toEqual(cases.filter((c) => keptKeys.has(key(c))));
      }),
    );
  });

  it('compiles fewer pipelines than the product: three binary constants in 5 of 8, not pairs with a values-only one', () => {
    const cases: Toy[] = [];
    for (const p of [0, 1])
      for (const q of [0, 1]) for (const r of [false, true]) for (const width of [1, 2]) cases.push({ entry: 0, p, q, r, width, size: 0 });
    const kept = pipelineCover(cases, specialisation, () => [], ['WIDTH']);
    // Greedy: 00F1 reaches six pairs and width 1, 11T2 six more and width 2 (width pairs with nothing),
    // then three pipelines reach the last six pairs two each — ties to the first in case order.
    expect(kept.map((c) => `${c.p}${c.q}${c.r ? 'T' : 'F'}${c.width}`)).toEqual(['00F1', '00T1', '01F1', '10F1', '11T2']);
  });
});
