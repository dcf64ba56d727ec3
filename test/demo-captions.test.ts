// The demo's generated captions (demo/captions.ts): every sentence follows from the run's numbers —
// the orderings it states are the measured ones, the numbers it quotes are the measured ones, and a
// toggle that is off is not mentioned.
import { describe, expect, it } from 'vitest';
import { type FlowModel, gradientFlowCaption, speedSentence } from '../demo/captions.js';

const T = 200;
/** ‖∂L/∂h_t‖ falling geometrically from 1 at t = T to `reach` at t = 1. */
const geometric = (reach: number) => Array.from({ length: T }, (_, t) => reach ** ((T - 1 - t) / (T - 1)));
const flows = (r: Record<FlowModel, number>) => ({ RNN: geometric(r.RNN), LSTM: geometric(r.LSTM), GRU: geometric(r.GRU) });

describe('gradient-flow caption', () => {
  it('the new user\'s run: the GRU far below the LSTM is said so, not that it "does the same"', () => {
    const caption = gradientFlowCaption({ flows: flows({ RNN: 3.1e-20, LSTM: 2.0e-11, GRU: 5.5e-37 }), forgetBias: true, orthogonal: false });
    expect(caption).toMatch(/first step receives 2\.0e-11 in the LSTM, 3\.1e-20 in the vanilla RNN, 5\.5e-37 in the GRU/);
    expect(caption).toMatch(/The LSTM keeps the most: .* forget gate \(opened from the start by bias 1\)/);
    expect(caption).toMatch(/The GRU keeps 1\.8e-17× what the vanilla RNN keeps on this run/);
    expect(caption).toMatch(/In the GRU the gradient has vanished/);
    expect(caption).not.toMatch(/does the same|Clipping/);
  });

  it('orthogonal weights with the GRU below the vanilla RNN, forget bias off: no sentence claims otherwise', () => {
    const caption = gradientFlowCaption({ flows: flows({ RNN: 4e-3, LSTM: 1e-4, GRU: 2e-6 }), forgetBias: false, orthogonal: true });
    expect(caption).toMatch(/Here the vanilla RNN keeps the most: with orthogonal W_hh/);
    expect(caption).toMatch(/The GRU keeps 5\.0e-4× what the vanilla RNN keeps/);
    expect(caption).toMatch(/The LSTM keeps 0\.03× what the vanilla RNN keeps/);
    expect(caption).not.toMatch(/bias 1|LSTM keeps the most|has vanished/);
  });

  it('the GRU above the RNN is credited to its direct path, with the ratio; a GRU on top says so', () => {
    const above = gradientFlowCaption({ flows: flows({ RNN: 1e-12, LSTM: 1e-3, GRU: 3e-6 }), forgetBias: true, orthogonal: false });
    expect(above).toMatch(/The GRU keeps 3\.0e\+6× as much as the vanilla RNN: its update gate/);
    const top = gradientFlowCaption({ flows: flows({ RNN: 1e-12, LSTM: 1e-5, GRU: 1e-3 }), forgetBias: false, orthogonal: false });
    expect(top).toMatch(/Here the GRU keeps the most/);
    expect(top).toMatch(/The LSTM keeps 1\.0e-2× what the GRU keeps/);
  });

  it('clipping: the factors measured, or that it did nothing', () => {
    const f = flows({ RNN: 1e-5, LSTM: 1e-2, GRU: 1e-3 });
    expect(gradientFlowCaption({ flows: f, forgetBias: true, orthogonal: false, clipFactors: { RNN: 1, LSTM: 1, GRU: 1 } })).toMatch(
      /changed nothing here: every ‖g‖ was already at most 1/,
    );
    expect(gradientFlowCaption({ flows: f, forgetBias: true, orthogonal: false, clipFactors: { RNN: 0.25, LSTM: 1, GRU: 0.031 } })).toMatch(
      /vanilla RNN ×0\.25, LSTM ×1, GRU ×0\.031\): the curves move down together/,
    );
  });

  it('a gradient below the smallest float is called nothing', () => {
    const f = flows({ RNN: 1e-3, LSTM: 1e-2, GRU: 1e-3 });
    f.RNN[0] = 0;
    const caption = gradientFlowCaption({ flows: f, forgetBias: true, orthogonal: false });
    expect(caption).toMatch(/0 \(below the smallest float\) in the vanilla RNN/);
    expect(caption).toMatch(/the first steps get nothing of the signal/);
    expect(caption).toMatch(/on average ×0\.977 \(LSTM\), ×0\.966 \(GRU\) per step\./);
    expect(caption).toMatch(/The GRU keeps more than the vanilla RNN/);
  });
});

describe('speed caption', () => {
  it('says faster or slower in words, with both times', () => {
    expect(speedSentence('voice-lstm', 10, 9)).toBe('voice-lstm: 10.0 ms, 1.1× slower than the CPU reference (9.0 ms)');
    expect(speedSentence('char-rnn', 2, 50)).toBe('char-rnn: 2.0 ms, 25.0× faster than the CPU reference (50.0 ms)');
    expect(speedSentence('x', 10, 10.2)).toBe('x: 10.0 ms, about as fast as the CPU reference (10.2 ms)');
  });
});

// The same captions in Chinese (engineer A): chosen by the same measurements, worded from the Chinese
// table — the numbers identical, no English sentence left in them.
describe('captions in Chinese', () => {
  const english = /\b(the|keeps|step|gradient|faster|slower|Clipping)\b/;

  it("gradient flow: the new user's run, the same numbers and orderings", () => {
    const caption = gradientFlowCaption({ flows: flows({ RNN: 3.1e-20, LSTM: 2.0e-11, GRU: 5.5e-37 }), forgetBias: true, orthogonal: false }, 'zh');
    expect(caption).toMatch(
      /^最后一步（t = 200）的梯度，传到第一步时只剩：LSTM 2\.0e-11，普通 RNN 3\.1e-20，GRU 5\.5e-37——平均每步乘以 ×0\.884，×0\.798，×0\.657。/,
    );
    expect(caption).toMatch(/LSTM 保留得最多：.*遗忘门（偏置为 1，一开始就是打开的）决定/);
    expect(caption).toMatch(/这一次 GRU 保留的梯度只有普通 RNN 的 1\.8e-17 倍/);
    expect(caption).toMatch(/GRU 里的梯度已经消失/);
    expect(caption).not.toMatch(/裁剪/);
    expect(caption).not.toMatch(english);
  });

  it('gradient flow: orthogonal weights, a GRU on top, clipping, a gradient below the smallest float', () => {
    const orthogonal = gradientFlowCaption({ flows: flows({ RNN: 4e-3, LSTM: 1e-4, GRU: 2e-6 }), forgetBias: false, orthogonal: true }, 'zh');
    expect(orthogonal).toMatch(/这一次普通 RNN 保留得最多：W_hh 是正交矩阵时/);
    expect(orthogonal).toMatch(/LSTM 保留的梯度只有普通 RNN 的 0\.03 倍。/);
    expect(orthogonal).not.toMatch(/偏置|已经消失/);
    const top = gradientFlowCaption({ flows: flows({ RNN: 1e-12, LSTM: 1e-5, GRU: 1e-3 }), forgetBias: false, orthogonal: false }, 'zh');
    expect(top).toMatch(/这一次 GRU 保留得最多/);
    expect(top).toMatch(/LSTM 保留的梯度只有 GRU 的 1\.0e-2 倍/);
    const f = flows({ RNN: 1e-5, LSTM: 1e-2, GRU: 1e-3 });
    expect(gradientFlowCaption({ flows: f, forgetBias: true, orthogonal: false, clipFactors: { RNN: 1, LSTM: 1, GRU: 1 } }, 'zh')).toMatch(
      /裁剪到范数 1 在这里没有起作用/,
    );
    expect(gradientFlowCaption({ flows: f, forgetBias: true, orthogonal: false, clipFactors: { RNN: 0.25, LSTM: 1, GRU: 0.031 } }, 'zh')).toMatch(
      /（普通 RNN ×0\.25，LSTM ×1，GRU ×0\.031）：曲线整体下移/,
    );
    const zero = flows({ RNN: 1e-3, LSTM: 1e-2, GRU: 1e-3 });
    zero.RNN[0] = 0;
    const caption = gradientFlowCaption({ flows: zero, forgetBias: true, orthogonal: false }, 'zh');
    expect(caption).toMatch(/普通 RNN 0（比最小的浮点数还小）/);
    expect(caption).toMatch(/损失传回的信号一点也到不了最前面几步/);
    expect(caption).toMatch(/×0\.977（LSTM），×0\.966（GRU）。/);
    expect(caption).toMatch(/GRU 保留的梯度比普通 RNN 多/);
  });

  it('speed: faster, slower or about as fast, with both times', () => {
    expect(speedSentence('voice-lstm', 10, 9, 'zh')).toBe('voice-lstm：10.0 毫秒，比 CPU 参考实现（9.0 毫秒）慢 1.1 倍');
    expect(speedSentence('char-rnn', 2, 50, 'zh')).toBe('char-rnn：2.0 毫秒，比 CPU 参考实现（50.0 毫秒）快 25.0 倍');
    expect(speedSentence('x', 10, 10.2, 'zh')).toBe('x：10.0 毫秒，与 CPU 参考实现（10.2 毫秒）差不多快');
  });
});
