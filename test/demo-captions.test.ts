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
