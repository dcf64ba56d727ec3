/**
 * The captions the panels write under their charts, generated from the run's own measurements: each
 * sentence is chosen by what was measured (an ordering, a ratio, a threshold) and states the numbers
 * it rests on, so a caption cannot contradict its chart. Pure functions, tested in
 * test/demo-captions.test.ts.
 */

export type FlowModel = 'RNN' | 'LSTM' | 'GRU';

export interface FlowRun {
  /** ‖∂L/∂h_t‖ for t = 1 … T, per model (after the clipping factor, when clipping was on). */
  flows: Record<FlowModel, number[]>;
  /** The toggles of the run. */
  forgetBias: boolean;
  orthogonal: boolean;
  /** clip_grad_norm_(…, 1)'s factor per model, when clipping was on. */
  clipFactors?: Record<FlowModel, number>;
}

const LABEL: Record<FlowModel, string> = { RNN: 'vanilla RNN', LSTM: 'LSTM', GRU: 'GRU' };

/** A small positive number the way the chart's log axis shows it. */
function sci(v: number): string {
  return v === 0 ? '0 (below the smallest float)' : v.toExponential(1);
}

/** How many times a exceeds b, in words that stay true at any size. */
function times(a: number, b: number): string {
  if (b === 0) return a === 0 ? 'as much as' : 'more than';
  const r = a / b;
  if (r >= 0.95 && r <= 1.05) return 'about as much as';
  return r > 1 ? `${r >= 100 ? r.toExponential(1) : r.toFixed(1)}× as much as` : `${r <= 0.01 ? r.toExponential(1) : r.toFixed(2)}× what`;
}

/** The gradient-flow caption: what reached the first step in each model, and what that shows. */
export function gradientFlowCaption(run: FlowRun): string {
  const models: FlowModel[] = ['RNN', 'LSTM', 'GRU'];
  const T = run.flows.RNN.length;
  // The share of the last step's gradient that reaches the first step, and the mean factor per step.
  const reach = Object.fromEntries(
    models.map((m) => {
      const f = run.flows[m];
      return [m, f[T - 1] > 0 ? f[0] / f[T - 1] : 0];
    }),
  ) as Record<FlowModel, number>;
  const perStep = (m: FlowModel) => (reach[m] > 0 ? reach[m] ** (1 / Math.max(1, T - 1)) : 0);
  const order = [...models].sort((a, b) => reach[b] - reach[a]);
  const sentences: string[] = [];
  const measurable = order.filter((m) => reach[m] > 0);
  sentences.push(
    `Of the gradient at the last step (t = ${T}), the first step receives ${order.map((m) => `${sci(reach[m])} in the ${LABEL[m]}`).join(', ')}` +
      (measurable.length
        ? ` — on average ×${measurable.map((m) => `${perStep(m).toFixed(3)}${measurable.length < 3 ? ` (${LABEL[m]})` : ''}`).join(', ×')} per step`
        : '') +
      '.',
  );
  const [best, , worst] = order;
  if (best === 'LSTM') {
    sentences.push(
      `The LSTM keeps the most: its cell state adds the past in instead of multiplying it at every step, and its forget gate${run.forgetBias ? ' (opened from the start by bias 1)' : ''} decides how much survives.`,
    );
  } else if (best === 'RNN') {
    sentences.push(
      `Here the vanilla RNN keeps the most${run.orthogonal ? ": with orthogonal W_hh each step's matrix neither shrinks nor grows the gradient, and only tanh′ ≤ 1 takes some away" : ''}.`,
    );
  } else {
    sentences.push('Here the GRU keeps the most: its update gate z mixes h_{t−1} straight into h_t, a path with no matrix on it.');
  }
  if (best !== 'GRU') {
    sentences.push(
      reach.GRU > reach.RNN
        ? `The GRU keeps ${times(reach.GRU, reach.RNN)} the vanilla RNN: its update gate gives h_{t−1} a direct path to h_t.`
        : `The GRU keeps ${times(reach.GRU, reach.RNN)} the vanilla RNN keeps on this run: its direct path carries the gradient only as far as its untrained update gates are open.`,
    );
  }
  if (best !== 'LSTM' && reach.LSTM < reach[best]) sentences.push(`The LSTM keeps ${times(reach.LSTM, reach[best])} the ${LABEL[best]} keeps.`);
  if (reach[worst] < 1e-7) {
    sentences.push(
      `In the ${LABEL[worst]} the gradient has vanished: the first steps get ${reach[worst] === 0 ? 'nothing' : `a ${sci(reach[worst])} share`} of the signal the loss sends back, so they cannot learn from it.`,
    );
  }
  if (run.clipFactors) {
    const f = run.clipFactors;
    sentences.push(
      models.every((m) => f[m] >= 1)
        ? 'Clipping to norm 1 changed nothing here: every ‖g‖ was already at most 1.'
        : `Clipping to norm 1 scaled each model's every step by one factor (${models.map((m) => `${LABEL[m]} ×${f[m] >= 1 ? '1' : f[m].toPrecision(2)}`).join(', ')}): the curves move down together and their slopes stay — clipping tames an exploding gradient, it cannot bring back a vanished one.`,
    );
  }
  return sentences.join(' ');
}

/** One benchmark shape: our time against the CPU reference's, in words. */
export function speedSentence(shape: string, oursMs: number, cpuMs: number): string {
  const ratio = cpuMs / oursMs;
  const how = ratio >= 1.05 ? `${ratio.toFixed(1)}× faster than` : ratio <= 1 / 1.05 ? `${(1 / ratio).toFixed(1)}× slower than` : 'about as fast as';
  return `${shape}: ${oursMs.toFixed(1)} ms, ${how} the CPU reference (${cpuMs.toFixed(1)} ms)`;
}
