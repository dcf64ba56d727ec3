/**
 * The captions of the training lessons — cells side by side, exploding gradients and clipping,
 * optimizers and schedules — generated from each run's own numbers, as demo/captions.ts does for the
 * original panels: each sentence is chosen by what was measured and states the numbers it rests on.
 * Pure functions of the measurements and the language, worded from the string tables; tested in
 * test/demo-training-lessons.test.ts.
 */
import { type Language, type StringKey, format, tableFor } from './i18n.js';

function say(lang: Language, key: StringKey, values?: Record<string, string | number>): string {
  return format(tableFor(lang)[key], values, key);
}

/** A space between Chinese characters and a name or number a template put next to them (as Chinese text sets them). */
function spaced(text: string): string {
  return text.replace(/([\u4e00-\u9fff])([A-Za-z0-9‖])/g, '$1 $2').replace(/([A-Za-z0-9‖])([\u4e00-\u9fff])/g, '$1 $2');
}

const nats = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : String(v));
const big = (v: number) => (!Number.isFinite(v) ? String(v) : Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(1) : v.toPrecision(3));
const ms = (v: number) => (Number.isFinite(v) ? (v >= 10 ? v.toFixed(0) : v.toFixed(1)) : '–');
const grouped = (n: number, lang: Language) => n.toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-US');

/** Two losses closer than this (nats per character) are "level". */
export const LEVEL_NATS = 0.02;

export type CellName = 'RNN' | 'GRU' | 'LSTM';

/** One cell's run in the side-by-side panel. */
export interface CellResult {
  cell: CellName;
  /** The mean loss of the last steps (finalLoss), NaN if it diverged. */
  loss: number;
  /** Recurrent parameters (weight_ih, weight_hh, bias_ih, bias_hh). */
  parameters: number;
  msPerStep: number;
  /** The step the library reported non-finite, if it did. */
  divergedAt?: number;
}

const CELL_KEY: Record<CellName, StringKey> = { RNN: 'cells.capRnn', GRU: 'cells.capGru', LSTM: 'cells.capLstm' };

/** The cells caption: which learned faster on this run (lowest loss after the same steps), at what cost. */
export function cellsCaption(steps: number, results: CellResult[], lang: Language = 'en'): string {
  const name = (c: CellName) => say(lang, CELL_KEY[c]);
  const sep = say(lang, 'cells.capSep');
  const out: string[] = [];
  const finite = results.filter((r) => r.divergedAt === undefined && Number.isFinite(r.loss)).sort((a, b) => a.loss - b.loss);
  for (const r of results) if (!finite.includes(r)) out.push(say(lang, 'cells.capDiverged', { cell: name(r.cell), step: r.divergedAt ?? steps }));
  if (finite.length >= 2) {
    const [first, second] = finite;
    const rest = finite.slice(2).map((r) => say(lang, 'cells.capItem', { cell: name(r.cell), loss: nats(r.loss) }));
    const tail = rest.length ? say(lang, 'cells.capRest', { list: rest.join(sep) }) : '';
    const level = second.loss - first.loss < LEVEL_NATS;
    out.push(
      say(lang, level ? 'cells.capLevel' : 'cells.capFirst', {
        steps,
        first: name(first.cell),
        l1: nats(first.loss),
        second: name(second.cell),
        l2: nats(second.loss),
        rest: tail,
      }),
    );
    // Did the extra gates pay? The winner against the largest cell that lost to it, or the largest winning.
    const largest = [...finite].sort((a, b) => b.parameters - a.parameters)[0];
    if (!level && largest !== first)
      out.push(
        say(lang, 'cells.capFewer', {
          first: name(first.cell),
          p1: grouped(first.parameters, lang),
          other: name(largest.cell),
          p2: grouped(largest.parameters, lang),
        }),
      );
    else if (!level) out.push(say(lang, 'cells.capLargest', { first: name(first.cell), p1: grouped(first.parameters, lang) }));
  }
  const costs = results.map((r) => say(lang, 'cells.capCostItem', { cell: name(r.cell), p: grouped(r.parameters, lang), ms: ms(r.msPerStep) }));
  out.push(say(lang, 'cells.capCost', { list: costs.join(sep) }));
  return spaced(out.join(say(lang, 'cells.capSentenceSep')));
}

/** One side of the clipping panel. */
export interface ClipSide {
  losses: number[];
  gradNorms: number[];
  /** The step the library reported non-finite, and the loss it reported. */
  diverged?: { step: number; loss: number };
}

export interface ClipRun {
  steps: number;
  /** The recurrent scale s, the learning rate and the clipping norm c of the run. */
  scale: number;
  lr: number;
  maxNorm: number;
  plain: ClipSide;
  clipped: ClipSide;
}

/** The clipping caption: at which step the unclipped run diverged, and what the clipped one did. */
export function clippingCaption(run: ClipRun, lang: Language = 'en'): string {
  const out: string[] = [];
  const { plain, clipped } = run;
  const peak = (s: ClipSide) => {
    let at = 0;
    s.gradNorms.forEach((g, i) => {
      if (g > s.gradNorms[at]) at = i;
    });
    return { step: at + 1, g: s.gradNorms[at] ?? Number.NaN };
  };
  if (plain.diverged) {
    const p = peak(plain);
    out.push(
      say(lang, 'clip.capDiverged', {
        g1: big(plain.gradNorms[0] ?? Number.NaN),
        peak: big(p.g),
        peakStep: p.step,
        step: plain.diverged.step,
        loss: String(plain.diverged.loss),
      }),
    );
  } else {
    out.push(
      say(lang, 'clip.capNoDivergence', {
        steps: run.steps,
        peak: big(peak(plain).g),
        first: big(plain.losses[0] ?? Number.NaN),
        last: big(plain.losses.at(-1) ?? Number.NaN),
      }),
    );
  }
  if (clipped.diverged) out.push(say(lang, 'clip.capClippedToo', { c: run.maxNorm, step: clipped.diverged.step }));
  else
    out.push(
      say(lang, 'clip.capClippedFine', {
        c: run.maxNorm,
        steps: clipped.losses.length,
        u: big(run.lr * run.maxNorm),
        g1: big(clipped.gradNorms[0] ?? Number.NaN),
        first: big(clipped.losses[0] ?? Number.NaN),
        last: big(clipped.losses.at(-1) ?? Number.NaN),
      }),
    );
  return spaced(out.join(say(lang, 'clip.capSentenceSep')));
}

export type OptimizerId = 'sgd' | 'momentum' | 'adam' | 'rmsprop' | 'cosine';

export interface OptimizerResult {
  id: OptimizerId;
  /** The mean loss of the last steps, NaN if it diverged. */
  loss: number;
  /** The loss at the first step (the same model and batch for all: the start). */
  start: number;
  divergedAt?: number;
}

const OPT_KEY: Record<OptimizerId, StringKey> = {
  sgd: 'opt.capSgd',
  momentum: 'opt.capMomentum',
  adam: 'opt.capAdam',
  rmsprop: 'opt.capRmsprop',
  cosine: 'opt.capCosine',
};

/** The optimizers caption: their order after the same steps, and the two comparisons the panel is about. */
export function optimizersCaption(steps: number, results: OptimizerResult[], lang: Language = 'en'): string {
  const name = (id: OptimizerId) => say(lang, OPT_KEY[id]);
  const out: string[] = [];
  for (const r of results) if (r.divergedAt !== undefined) out.push(say(lang, 'opt.capDiverged', { name: name(r.id), step: r.divergedAt }));
  const finite = results.filter((r) => r.divergedAt === undefined && Number.isFinite(r.loss)).sort((a, b) => a.loss - b.loss);
  if (finite.length === 0) return spaced(out.join(say(lang, 'opt.capSentenceSep')));
  const list = finite.map((r) => say(lang, 'opt.capItem', { name: name(r.id), loss: nats(r.loss) })).join(say(lang, 'opt.capSep'));
  out.push(say(lang, 'opt.capRank', { steps, start: nats(finite[0].start), list }));
  const by = Object.fromEntries(finite.map((r) => [r.id, r])) as Partial<Record<OptimizerId, OptimizerResult>>;
  const compare = (a: OptimizerResult | undefined, b: OptimizerResult | undefined, key: StringKey) => {
    if (!a || !b) return;
    const d = a.loss - b.loss;
    const how = Math.abs(d) < LEVEL_NATS ? 'opt.capSame' : d < 0 ? 'opt.capLower' : 'opt.capHigher';
    out.push(say(lang, key, { how: say(lang, how, { d: nats(Math.abs(d)) }), a: nats(a.loss), b: nats(b.loss) }));
  };
  compare(by.momentum, by.sgd, 'opt.capMomentumVsSgd');
  compare(by.cosine, by.adam, 'opt.capCosineVsAdam');
  return spaced(out.join(say(lang, 'opt.capSentenceSep')));
}
