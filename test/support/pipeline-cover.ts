/**
 * Which cases of a kernel's cross product to run, when compiling is what costs. On a software adapter a
 * pipeline's first compile (Tint, then SwiftShader's Subzero JIT) takes 0.15–0.35 s for the narrow GEMM
 * tiles and 0.4–4 s for the wide ones, and a small case's run a few ms, so a test's time is its count of
 * distinct pipelines, not of cases. The GEMM op test's product of 540 cases (27 sizes × 5 modes × 4
 * transpose pairs) asks for about 400.
 *
 * This picks pipelines, greedily, until the cases on them reach every fact the whole product reaches:
 * the caller's own facts for each case, given its specialisation (which size met which transpose pair
 * and which mode, say), each value of the `valuesOnly` constants, and every pair of values of the other
 * constants and the entry point — a pairwise (all-pairs) design over the kernel's specialisation. It
 * returns every case whose pipeline was picked, since those run at almost no cost. What it leaves out
 * are the triples and beyond of the constants, except those a caller names as facts (the GEMM test
 * names its tile shape with its k loops: nested code). The whole product still runs on request
 * (GEMM_CASES=all in the GEMM test).
 *
 * Checked by breaking the GEMM kernel eight ways, one at a time: the cover caught each break that the
 * whole product caught; the one that neither caught showed a gap in the sizes, since closed.
 */
export interface Specialisation {
  readonly entryPoint: string;
  readonly constants: Readonly<Record<string, number | boolean>>;
}

export function pipelineCover<T>(
  cases: readonly T[],
  specialisationOf: (c: T) => Specialisation,
  factsOf: (c: T, s: Specialisation) => readonly string[],
  valuesOnly: readonly string[] = [],
): T[] {
  const keyOf = (s: Specialisation) => `${s.entryPoint}/${JSON.stringify(Object.entries(s.constants).sort(([a], [b]) => (a < b ? -1 : 1)))}`;
  const factsByKey = new Map<string, Set<string>>();
  const keys = cases.map((c) => {
    const s = specialisationOf(c);
    const key = keyOf(s);
    const facts = factsByKey.get(key) ?? new Set<string>();
    for (const fact of factsOf(c, s)) facts.add(`case: ${fact}`);
    const settings: Array<[string, unknown]> = [['entry point', s.entryPoint]];
    for (const [name, value] of Object.entries(s.constants)) {
      if (valuesOnly.includes(name)) facts.add(`${name}=${value}`);
      else settings.push([name, value]);
    }
    for (let i = 0; i < settings.length; i++) {
      for (let j = i + 1; j < settings.length; j++) facts.add(`${settings[i].join('=')} with ${settings[j].join('=')}`);
    }
    factsByKey.set(key, facts);
    return key;
  });
  const open = new Set([...factsByKey.values()].flatMap((facts) => [...facts]));
  const picked = new Set<string>();
  while (open.size > 0) {
    // The pipeline that reaches the most facts not yet reached; ties go to the first in case order.
    let best = '';
    let most = 0;
    for (const [key, facts] of factsByKey) {
      let count = 0;
      for (const fact of facts) if (open.has(fact)) count++;
      if (count > most) [best, most] = [key, count];
    }
    picked.add(best);
    for (const fact of factsByKey.get(best) ?? []) open.delete(fact);
  }
  return cases.filter((_, i) => picked.has(keys[i]));
}
