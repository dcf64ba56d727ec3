/**
 * The captions of the gates, overfitting and bidirectional panels, generated from each run's own
 * numbers (as demo/captions.ts does for the original panels): each sentence is chosen by what was
 * measured and states the numbers it rests on. Pure functions of the measurements and the language,
 * worded from the string tables; tested in test/demo-lesson-captions.test.ts.
 */
import type { RnnMode } from '../src/index.js';
import { type Language, type StringKey, format, tableFor } from './i18n.js';

function say(lang: Language, key: StringKey, values?: Record<string, string | number>): string {
  return format(tableFor(lang)[key], values, key);
}

const pct = (v: number) => (100 * v).toFixed(0);

/** What the gates panel measured over its sentence. */
export interface GateSummary {
  mode: RnnMode;
  chars: string[];
  /** Each shown symbol's mean over units and steps. */
  means: Record<string, number>;
  /** Each shown symbol's mean over units, per character. */
  perChar: Record<string, number[]>;
  /** σ and tanh values within 0.1 of their bounds (a ReLU RNN's h: the share at 0), per symbol. */
  saturated: Record<string, number>;
}

/** The character where `values` is smallest (ties: the first), and that value. */
function lowest(chars: string[], values: number[]): { char: string; value: number } {
  let at = 0;
  values.forEach((v, i) => {
    if (v < values[at]) at = i;
  });
  return { char: chars[at], value: values[at] };
}

export function gatesCaption(s: GateSummary, lang: Language = 'en'): string {
  const text = s.chars.join('');
  const q = (c: string) => say(lang, 'common.quoted', { text: c });
  const f2 = (v: number) => v.toFixed(2);
  if (s.mode === 'LSTM') {
    const f = lowest(s.chars, s.perChar.f);
    const share = (s.saturated.i + s.saturated.f + s.saturated.o) / 3;
    return say(lang, 'gates.capLstm', {
      verdict: say(lang, share >= 0.5 ? 'gates.capSwitches' : 'gates.capDials'),
      text: q(text),
      f: f2(s.means.f),
      fChar: q(f.char),
      fMin: f2(f.value),
      i: f2(s.means.i),
      o: f2(s.means.o),
      saturated: pct(share),
    });
  }
  if (s.mode === 'GRU') {
    const z = lowest(s.chars, s.perChar.z);
    const share = (s.saturated.r + s.saturated.z) / 2;
    return say(lang, 'gates.capGru', {
      verdict: say(lang, share >= 0.5 ? 'gates.capSwitches' : 'gates.capDials'),
      text: q(text),
      z: f2(s.means.z),
      zChar: q(z.char),
      zMin: f2(z.value),
      r: f2(s.means.r),
      saturated: pct(share),
    });
  }
  return say(lang, s.mode === 'RNN_RELU' ? 'gates.capRnnRelu' : 'gates.capRnn', { text: q(text), saturated: pct(s.saturated.h) });
}

/** One overfitting run: its best held-out loss, where it stopped, and the kept model's gap. */
export interface OverfitRun {
  /** The step of the lowest held-out loss (the weights kept), and that loss. */
  bestStep: number;
  bestLoss: number;
  /** The last step trained, and the held-out loss there. */
  lastStep: number;
  lastLoss: number;
  /** Whether early stopping ended it (before the step budget). */
  early: boolean;
  /** Held-out minus training loss (both measured without dropout) at the result's `gapStep`. */
  gap: number;
}

export interface OverfitResult {
  plain: OverfitRun;
  dropout: OverfitRun;
  patience: number;
  /** The last validation step both runs reached: where their gaps are compared. */
  gapStep: number;
  /** The dropout between layers, and on h_{t−1}. */
  rate: number;
  recurrentRate: number;
}

function overfitSentence(run: OverfitRun, name: string, patience: number, lang: Language): string {
  const values = { name, step: run.bestStep, loss: run.bestLoss.toFixed(3), last: run.lastStep, end: run.lastLoss.toFixed(3), patience };
  const rose = run.lastStep > run.bestStep && run.lastLoss > run.bestLoss + 0.005 ? say(lang, 'of.capRose', values) : '';
  const end = run.early
    ? say(lang, 'of.capEarly', values)
    : run.lastStep > run.bestStep
      ? say(lang, 'of.capKept', values)
      : say(lang, 'of.capStillFalling', values);
  return say(lang, 'of.capRun', { ...values, rose, end });
}

export function overfitCaption(r: OverfitResult, lang: Language = 'en'): string {
  const plainName = say(lang, 'of.capPlain');
  const dropoutName = say(lang, 'of.capDropout', { rate: r.rate, recurrent: r.recurrentRate });
  const sentences = [overfitSentence(r.plain, plainName, r.patience, lang), overfitSentence(r.dropout, dropoutName, r.patience, lang)];
  const d = r.plain.gap - r.dropout.gap;
  const values = { step: r.gapStep, plain: r.plain.gap.toFixed(3), dropout: r.dropout.gap.toFixed(3), d: Math.abs(d).toFixed(3) };
  sentences.push(say(lang, d > 0 ? 'of.capNarrowed' : 'of.capNotNarrowed', values));
  const better = r.dropout.bestLoss < r.plain.bestLoss;
  sentences.push(say(lang, better ? 'of.capBestLower' : 'of.capBestHigher', { plain: r.plain.bestLoss.toFixed(3), dropout: r.dropout.bestLoss.toFixed(3) }));
  return sentences.join(say(lang, 'of.capSentenceSep'));
}

/** The bidirectional panel's run: held-out accuracy at the masked position, one direction and two. */
export interface BidirectionalResult {
  rows: number;
  steps: number;
  uni: { accuracy: number; params: number };
  bi: { accuracy: number; params: number };
  /** Always guessing the training windows' commonest hidden character. */
  baseline: number;
}

export function bidirectionalCaption(r: BidirectionalResult, lang: Language = 'en'): string {
  const sentences = [say(lang, 'bi.capResult', { rows: r.rows, steps: r.steps, bi: pct(r.bi.accuracy), uni: pct(r.uni.accuracy), baseline: pct(r.baseline) })];
  const points = 100 * (r.bi.accuracy - r.uni.accuracy);
  if (points >= 1)
    sentences.push(say(lang, 'bi.capHelped', { points: points.toFixed(0), ratio: r.uni.accuracy > 0 ? (r.bi.accuracy / r.uni.accuracy).toFixed(1) : '∞' }));
  else sentences.push(say(lang, 'bi.capNotHelped'));
  sentences.push(say(lang, 'bi.capParams', { bi: r.bi.params.toLocaleString('en-US'), uni: r.uni.params.toLocaleString('en-US') }));
  return sentences.join(say(lang, 'bi.capSentenceSep'));
}
