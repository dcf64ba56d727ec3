/**
 * The captions of the gates, overfitting and bidirectional panels (demo/lesson-captions.ts): each
 * sentence chosen by the measurements it is given and stating their numbers, in English and in
 * Chinese (the same numbers, no English sentence left), in plain Node.
 */
import { describe, expect, it } from 'vitest';
import { bidirectionalCaption, type GateSummary, gatesCaption, type OverfitResult, overfitCaption } from '../demo/lesson-captions.js';

/** English words of four letters or more, but the names the Chinese text keeps (cells, dropout). */
const englishWords = (s: string) => (s.match(/[A-Za-z]{4,}/g) ?? []).filter((w) => !/^(LSTM|dropout)$/.test(w));

const lstm: GateSummary = {
  mode: 'LSTM',
  chars: Array.from('今天天气很好'),
  means: { i: 0.6, f: 0.69, g: 0.01, o: 0.62, c: 0.1, h: 0.05 },
  perChar: { i: [0.5, 0.6, 0.6, 0.6, 0.6, 0.7], f: [0.72, 0.65, 0.7, 0.7, 0.68, 0.71], o: [0.6, 0.6, 0.6, 0.6, 0.6, 0.7] },
  saturated: { i: 0.1, f: 0.2, o: 0.12, g: 0.3, h: 0.05 },
};

describe('gates caption', () => {
  it("LSTM: the forget gate's mean and where it is lowest, the other gates, the saturated share", () => {
    const en = gatesCaption(lstm, 'en');
    expect(en).toContain('"今天天气很好"');
    expect(en).toMatch(/forget gate fₜ averaged 0\.69 \(lowest at "天": 0\.65/);
    expect(en).toContain('input gate iₜ 0.60 and the output gate oₜ 0.62');
    expect(en).toContain('14% of the σ gates'); // (0.1 + 0.2 + 0.12) / 3
    expect(en).toMatch(/most values lie in between, so the gates act as dials more than as switches\.$/);
    const zh = gatesCaption(lstm, 'zh');
    expect(zh).toContain('“今天天气很好”');
    expect(zh).toContain('0.69');
    expect(zh).toContain('“天”处最低，为 0.65');
    expect(zh).toContain('14%');
    expect(zh).toContain('更像旋钮');
    const saturated = gatesCaption({ ...lstm, saturated: { i: 0.6, f: 0.7, o: 0.5 } }, 'en');
    expect(saturated).toMatch(/60% of the σ gates.*: the gates act as switches more than as dials\.$/);
    expect(englishWords(zh)).toEqual([]);
  });

  it('GRU: the update gate (the share of h kept) and where the state is rewritten most; RNN: no gates', () => {
    const gru: GateSummary = {
      mode: 'GRU',
      chars: ['a', 'b', 'c'],
      means: { r: 0.4, z: 0.55, n: 0, h: 0 },
      perChar: { r: [0.4, 0.4, 0.4], z: [0.6, 0.7, 0.35], n: [0, 0, 0], h: [0, 0, 0] },
      saturated: { r: 0.5, z: 0.3, n: 0.1, h: 0 },
    };
    expect(gatesCaption(gru, 'en')).toMatch(/update gate zₜ averaged 0\.55 .*lowest at "c": 0\.35.*reset gate rₜ 0\.40; 40% of the gates.*act as dials/);
    expect(englishWords(gatesCaption(gru, 'zh'))).toEqual([]);
    const rnn: GateSummary = { mode: 'RNN_TANH', chars: ['a', 'b'], means: { h: 0 }, perChar: { h: [0, 0] }, saturated: { h: 0.25 } };
    expect(gatesCaption(rnn, 'en')).toMatch(/^A plain RNN has no gates: .* 25% of its values were saturated/);
    expect(gatesCaption(rnn, 'zh')).toContain('25%');
  });
});

const overfit = (plainGap: number, dropoutGap: number, early = true): OverfitResult => ({
  plain: { bestStep: 35, bestLoss: 2.01, lastStep: 45, lastLoss: 2.06, early, gap: plainGap },
  dropout: { bestStep: 45, bestLoss: 2.09, lastStep: 45, lastLoss: 2.09, early: false, gap: dropoutGap },
  patience: 2,
  gapStep: 45,
  rate: 0.5,
  recurrentRate: 0.3,
});

describe('overfitting caption', () => {
  it('says where each held-out loss was lowest, where it rose and stopped, and how much dropout narrowed the gap', () => {
    const en = overfitCaption(overfit(1.52, 1.12), 'en');
    expect(en).toContain(
      "Without dropout, the held-out loss was lowest at step 35 (2.010 nats) and rose to 2.060 by step 45; early stopping ended the run at step 45 (2 validations without improvement) and restored step 35's weights.",
    );
    expect(en).toContain(
      'With dropout 0.5 between the layers and 0.3 on hₜ₋₁, the held-out loss was lowest at step 45 (2.090 nats); it was still falling when the run ended.',
    );
    expect(en).toContain(
      'At step 45, the last both runs reached, the held-out loss lay 1.520 nats above the training loss without dropout and 1.120 with it: dropout narrowed the gap by 0.400 nats.',
    );
    expect(en).toContain('not lower (2.090 against 2.010 nats)');
    const zh = overfitCaption(overfit(1.52, 1.12), 'zh');
    for (const n of ['2.010', '2.060', '1.520', '1.120', '0.400', '第 35 步', '第 45 步']) expect(zh).toContain(n);
    expect(zh).toContain('缩小了 0.400 奈特');
    expect(englishWords(zh)).toEqual([]);
  });

  it('says so when dropout did not narrow the gap, and when a run ended without stopping early', () => {
    const r = overfit(1.0, 1.3, false);
    const en = overfitCaption(r, 'en');
    expect(en).toContain('did not narrow the gap (it widened by 0.300 nats)');
    expect(en).toContain("the run ended at step 45 and kept step 35's weights");
    expect(overfitCaption(r, 'zh')).toContain('没有缩小差距（反而扩大了 0.300 奈特）');
  });
});

describe('bidirectional caption', () => {
  const result = { rows: 256, steps: 40, uni: { accuracy: 0.29, params: 10_000 }, bi: { accuracy: 0.55, params: 21_000 }, baseline: 0.08 };

  it('gives both accuracies, the floor, the points the future added, and the parameter counts', () => {
    const en = bidirectionalCaption(result, 'en');
    expect(en).toContain(
      'On 256 held-out windows, after 40 steps, the bidirectional LSTM restored 55% of the hidden characters and the left-to-right one 29% (always guessing the commonest: 8%).',
    );
    expect(en).toContain('added 26 percentage points (1.9× the accuracy)');
    expect(en).toContain('21,000 parameters to 10,000');
    const zh = bidirectionalCaption(result, 'zh');
    for (const n of ['256', '40', '55%', '29%', '8%', '26 个百分点', '1.9 倍', '21,000', '10,000']) expect(zh).toContain(n);
    expect(englishWords(zh)).toEqual([]);
  });

  it('says so when reading backwards did not help', () => {
    const en = bidirectionalCaption({ ...result, bi: { ...result.bi, accuracy: 0.28 } }, 'en');
    expect(en).toContain('Seeing the characters after the gap did not help on this run.');
    expect(en).not.toContain('added');
  });
});
