/**
 * The captions the panels write under their charts, generated from the run's own measurements: each
 * sentence is chosen by what was measured (an ordering, a ratio, a threshold) and states the numbers
 * it rests on, so a caption cannot contradict its chart. Pure functions, tested in
 * test/demo-captions.test.ts. Each takes the language (`lang`, English by default) and words its
 * sentences from that language's string table (demo/strings/), so a caption is never half translated.
 */
import { type Language, type StringKey, format, tableFor } from './i18n.js';

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

/** The string `key` of `lang`'s table with `values` (captions stay pure: the language is an argument). */
function say(lang: Language, key: StringKey, values?: Record<string, string | number>): string {
  return format(tableFor(lang)[key], values, key);
}

/**
 * A space between Chinese characters and Latin letters or digits where a template put a name next to
 * a character ("普通 RNN 的", "只有 GRU 的"): the usual CJK typesetting, and no change to English text.
 */
function spaced(text: string): string {
  return text.replace(/([\u4e00-\u9fff])([A-Za-z0-9])/g, '$1 $2').replace(/([A-Za-z0-9])([\u4e00-\u9fff])/g, '$1 $2');
}

const LABEL_KEY: Record<FlowModel, StringKey> = { RNN: 'gf.capModelRNN', LSTM: 'gf.capModelLSTM', GRU: 'gf.capModelGRU' };

/** A small positive number the way the chart's log axis shows it. */
function sci(v: number, lang: Language): string {
  return v === 0 ? say(lang, 'gf.capZero') : v.toExponential(1);
}

/** How a compares with b's `other`, in words that stay true at any size. */
function times(a: number, b: number, other: string, lang: Language): string {
  if (b === 0) return say(lang, a === 0 ? 'gf.capTimesSame' : 'gf.capTimesMore', { other });
  const r = a / b;
  if (r >= 0.95 && r <= 1.05) return say(lang, 'gf.capTimesAbout', { other });
  return r > 1
    ? say(lang, 'gf.capTimesUp', { r: r >= 100 ? r.toExponential(1) : r.toFixed(1), other })
    : say(lang, 'gf.capTimesDown', { r: r <= 0.01 ? r.toExponential(1) : r.toFixed(2), other });
}

/** The gradient-flow caption, in `lang`: what reached the first step in each model, and what that shows. */
export function gradientFlowCaption(run: FlowRun, lang: Language = 'en'): string {
  const LABEL = Object.fromEntries((['RNN', 'LSTM', 'GRU'] as const).map((m) => [m, say(lang, LABEL_KEY[m])])) as Record<FlowModel, string>;
  const sep = say(lang, 'gf.capListSep');
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
    say(lang, 'gf.capReach', {
      T,
      list: order.map((m) => say(lang, 'gf.capReachItem', { value: sci(reach[m], lang), model: LABEL[m] })).join(sep),
      perStep: measurable.length
        ? say(lang, 'gf.capPerStep', {
            factors: measurable
              .map((m) => (measurable.length < 3 ? say(lang, 'gf.capFactorOf', { f: perStep(m).toFixed(3), model: LABEL[m] }) : perStep(m).toFixed(3)))
              .join(`${sep}×`),
          })
        : '',
    }),
  );
  const [best, , worst] = order;
  if (best === 'LSTM') {
    sentences.push(say(lang, 'gf.capLstmBest', { bias: run.forgetBias ? say(lang, 'gf.capLstmBias') : '' }));
  } else if (best === 'RNN') {
    sentences.push(say(lang, 'gf.capRnnBest', { orthogonal: run.orthogonal ? say(lang, 'gf.capRnnOrthogonal') : '' }));
  } else {
    sentences.push(say(lang, 'gf.capGruBest'));
  }
  if (best !== 'GRU') {
    sentences.push(say(lang, reach.GRU > reach.RNN ? 'gf.capGruAbove' : 'gf.capGruBelow', { times: times(reach.GRU, reach.RNN, LABEL.RNN, lang) }));
  }
  if (best !== 'LSTM' && reach.LSTM < reach[best]) sentences.push(say(lang, 'gf.capLstmVsBest', { times: times(reach.LSTM, reach[best], LABEL[best], lang) }));
  if (reach[worst] < 1e-7) {
    sentences.push(
      reach[worst] === 0
        ? say(lang, 'gf.capVanishedNothing', { model: LABEL[worst] })
        : say(lang, 'gf.capVanishedShare', { model: LABEL[worst], share: sci(reach[worst], lang) }),
    );
  }
  if (run.clipFactors) {
    const f = run.clipFactors;
    sentences.push(
      models.every((m) => f[m] >= 1)
        ? say(lang, 'gf.capClipNothing')
        : say(lang, 'gf.capClipScaled', {
            factors: models.map((m) => say(lang, 'gf.capClipFactor', { model: LABEL[m], f: f[m] >= 1 ? '1' : f[m].toPrecision(2) })).join(sep),
          }),
    );
  }
  return spaced(sentences.join(say(lang, 'gf.capSentenceSep')));
}

/** One benchmark shape: our time against the CPU reference's, in words. */
export function speedSentence(shape: string, oursMs: number, cpuMs: number, lang: Language = 'en'): string {
  const ratio = cpuMs / oursMs;
  const values = { shape, ms: oursMs.toFixed(1), cpu: cpuMs.toFixed(1) };
  if (ratio >= 1.05) return say(lang, 'sp.capFaster', { ...values, r: ratio.toFixed(1) });
  if (ratio <= 1 / 1.05) return say(lang, 'sp.capSlower', { ...values, r: (1 / ratio).toFixed(1) });
  return say(lang, 'sp.capAbout', values);
}
