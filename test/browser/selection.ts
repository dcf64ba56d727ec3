/**
 * Which cases of the GPU agreement suite (test/suites/gpu-agreement.ts) headless Chromium runs.
 * Node runs every case; Chromium runs the same shaders on another Dawn, so what can differ there is
 * how that Dawn compiles and runs each kernel, not which strategy a given model happens to meet it in.
 *
 * The rule, over the suite's case names in order:
 *  - a case's subject is its name without its strategy tag (` [per-step]`, ` [persistent]`, ` [fused]`):
 *    cases that share a subject are one model, stream or training fixture run on each strategy;
 *  - a case with no strategy tag, or the only one of its subject, runs (thresholds, limits, lifetimes,
 *    ordering, faults, NaN, the other adapter kind's layouts, the reference cases of training and seq2seq),
 *    except the NODE_ONLY ones below;
 *  - of the subjects with several strategies, the k-th (counting those only, in suite order) runs one
 *    case: its (k mod n)-th, n being how many strategies it has. Subjects of a kind come in a row (and
 *    fixtures grouped by mode), so every kind and every mode of fixture meets every strategy it has in
 *    Node. Untagged cases run modes on every strategy whole as well: NaN (every mode, every forward
 *    strategy) and recurrent dropout (LSTM, GRU and RNN_TANH on every backward kernel, both adapter
 *    kinds' layouts).
 * test/browser-selection.test.ts checks that coverage on the real case list.
 */

/**
 * Untagged cases that re-run a whole family of backward kernels under forced variants — each recurrent
 * mode on every backward kernel with recurrent-dropout masks (≈ 40 s here), every fixture on the other
 * adapter kind's persistent backward (≈ 28 s) — which Node runs on the same shaders. Chromium's Dawn
 * still compiles and runs those kernels through the training cases it keeps.
 */
export const NODE_ONLY: readonly string[] = [
  "training: recurrent dropout in every recurrent kernel gives the CPU reference's gradients (its masks), and drops",
  'training: the persistent backward kernel meant for the other kind of adapter, every fitting fixture',
];

/**
 * The strategy tags case names carry (the inference and the backward strategies share names). A tag
 * missing here only leaves its cases all running, never drops one.
 */
const STRATEGY_TAG = / \[(per-step|persistent|fused)\]/;

/** A case name split into its subject (the name without its strategy tag) and that tag's strategy. */
export function splitStrategy(name: string): { subject: string; strategy?: string } {
  const match = STRATEGY_TAG.exec(name);
  if (!match) return { subject: name };
  return { subject: name.slice(0, match.index) + name.slice(match.index + match[0].length), strategy: match[1] };
}

/** Indices (ascending) into `names` of the cases Chromium runs, by the rule above. */
export function chromiumSelection(names: readonly string[]): number[] {
  const bySubject = new Map<string, number[]>();
  for (const [i, name] of names.entries()) {
    if (NODE_ONLY.includes(name)) continue;
    const { subject } = splitStrategy(name);
    const indices = bySubject.get(subject);
    if (indices) indices.push(i);
    else bySubject.set(subject, [i]);
  }
  const chosen: number[] = [];
  let k = 0;
  for (const indices of bySubject.values()) {
    if (indices.length === 1) chosen.push(indices[0]);
    else chosen.push(indices[k++ % indices.length]);
  }
  return chosen.sort((a, b) => a - b);
}
