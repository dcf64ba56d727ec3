// The backward op alone (recordLayerBackward, shaders/recurrent-backward.wgsl) on one layer, every
// strategy that fits, against the float64 reference backward (src/reference/recurrent-train.ts): the
// layer's forward with SAVE and the shift run first on the GPU (what the backward reads), then the
// reverse time loop from a random dL/d(output). What it leaves is checked through what the trainer
// makes of it — the weight gradients the GEMMs would form from the gates' gradients (formed here on
// the host, in float64), dL/dh0 and dL/dc0 — at awkward sizes, with lengths, both directions; the
// gradient buffers poisoned; the software persistent kinds again without subgroups.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RnnConfig, type RnnConfigInput, gateCount, resolveConfig } from '../../src/config.js';
import { contextFor, getDefaultDevice } from '../../src/gpu/device.js';
import { recordPerStepLayer, stepIndex } from '../../src/gpu/layer-record.js';
import { GATE_LANES } from '../../src/gpu/layer-weights.js';
import {
  BACKWARD_STRATEGIES,
  type BackwardStrategy,
  type SoftwareBackwardKind,
  backwardKernels,
  backwardUnfit,
  gradientStateLayout,
  hiddenScratchFloats,
  recordLayerBackward,
  savedLayout,
  softwareBackwardLayout,
} from '../../src/gpu/ops/backward.js';
import { recordShift } from '../../src/gpu/ops/shift.js';
import { type Command, clear, copy } from '../../src/gpu/program.js';
import { PlanSizes, packState } from '../../src/gpu/state.js';
import { paramName, parameterSpecs } from '../../src/params.js';
import { seededUniform } from '../../src/random.js';
import { recurrentTrainBackward, recurrentTrainForward } from '../../src/reference/recurrent-train.js';
import { recurrentSection } from '../../src/train/layers/recurrent/section.js';
import { expectClose } from '../support/compare.js';
import { OpHarness, values, variantContext } from './harness.js';

let h: OpHarness;
beforeAll(async () => {
  h = new OpHarness(await contextFor(await getDefaultDevice()));
});
afterAll(() => h.dispose());

const CASES: Array<[RnnConfigInput, { T: number; B: number; lengths: boolean }]> = [
  [
    { mode: 'LSTM', input_size: 3, hidden_size: 3, bidirectional: true },
    { T: 3, B: 17, lengths: true },
  ],
  [
    { mode: 'GRU', input_size: 17, hidden_size: 17 },
    { T: 4, B: 3, lengths: false },
  ],
  [
    { mode: 'RNN_TANH', input_size: 1, hidden_size: 1, bidirectional: true },
    { T: 1, B: 1, lengths: false },
  ],
  [
    { mode: 'RNN_RELU', input_size: 5, hidden_size: 4, bidirectional: true },
    { T: 6, B: 3, lengths: true },
  ],
  [
    { mode: 'LSTM', input_size: 2, hidden_size: 5, proj_size: 2 },
    { T: 5, B: 2, lengths: true },
  ],
  [
    { mode: 'GRU', input_size: 3, hidden_size: 257 },
    { T: 2, B: 1, lengths: false },
  ],
  [
    { mode: 'GRU', input_size: 2, hidden_size: 6, bidirectional: true },
    { T: 3, B: 9, lengths: true },
  ],
  [
    { mode: 'RNN_TANH', input_size: 3, hidden_size: 17 },
    { T: 4, B: 5, lengths: true },
  ],
  // Gated cells at hidden sizes that are multiples of 4 (the blocked kernel's subgroup path without a
  // remainder), and past one pass of its workgroup.
  [
    { mode: 'LSTM', input_size: 5, hidden_size: 12 },
    { T: 3, B: 9, lengths: true },
  ],
  [
    { mode: 'GRU', input_size: 3, hidden_size: 36, bidirectional: true },
    { T: 3, B: 4, lengths: false },
  ],
  // Past the cached variant's 128 units: the blocked kernels in blocks of two rows (2 · 2 · H vec4 of
  // workgroup memory up to H = 256).
  [
    { mode: 'GRU', input_size: 5, hidden_size: 256 },
    { T: 3, B: 5, lengths: true },
  ],
  [
    { mode: 'LSTM', input_size: 3, hidden_size: 131, bidirectional: true },
    { T: 2, B: 3, lengths: true },
  ],
];

/** dW (D, G·H, K) in PyTorch's layout from gate gradients dg (D, T·B, H, 4) and the rows they multiply, a (D or 1, T·B, K). */
function weightGradient(config: RnnConfig, dg: Float32Array, a: (d: number, tb: number, k: number) => number, TB: number, K: number): Float64Array[] {
  const D = config.bidirectional ? 2 : 1;
  const H = config.hidden_size;
  const G = gateCount(config.mode);
  return Array.from({ length: D }, (_, d) => {
    const w = new Float64Array(G * H * K);
    for (let tb = 0; tb < TB; tb++) {
      for (let j = 0; j < H; j++) {
        for (let g = 0; g < G; g++) {
          const v = dg[((d * TB + tb) * H + j) * GATE_LANES + g];
          if (v !== 0) for (let k = 0; k < K; k++) w[(g * H + j) * K + k] += v * a(d, tb, k);
        }
      }
    }
    return w;
  });
}

describe('backward op vs the float64 reference backward (one layer)', () => {
  // The persistent strategy's software variants each forced where they fit (the adapter's own choice
  // is one of them on a software adapter; the GPU's runs in the training suite's other-adapter case).
  const variants = (strategy: BackwardStrategy): Array<SoftwareBackwardKind | undefined> =>
    strategy === 'persistent' ? [undefined, 'cached', 'blocked', 'blocked4'] : [undefined];
  const cases = CASES.flatMap(([config, shape], i) =>
    BACKWARD_STRATEGIES.flatMap((strategy) =>
      variants(strategy).map(
        (kind) => [`${strategy}${kind ? ` ${kind}` : ''} ${JSON.stringify(config)} ${JSON.stringify(shape)}`, config, shape, strategy, kind, i] as const,
      ),
    ),
  );

  it.each(cases)('%s', (_name, input, shape, strategy, kind, seed) => checkBackward(h, input, shape, strategy, kind, seed));
});

describe('backward op without subgroups (the plain loads of devices that lack them): the persistent kinds', () => {
  const variant = variantContext('no-subgroups');
  const kinds: SoftwareBackwardKind[] = ['cached', 'blocked', 'blocked4'];
  const cases = CASES.flatMap(([config, shape], i) =>
    kinds.map((kind) => [`${kind} ${JSON.stringify(config)} ${JSON.stringify(shape)}`, config, shape, kind, i] as const),
  );
  it.each(cases)('%s', (_name, input, shape, kind, seed) => checkBackward(variant.harness, input, shape, 'persistent', kind, seed));
});

/**
 * One case on `h`'s context: the layer's forward (SAVE) and shift, the backward by `strategy` (`kind`:
 * a software persistent kind forced; a case it does not fit passes untested), then its gradients
 * against the float64 reference's.
 */
async function checkBackward(
  h: OpHarness,
  input: RnnConfigInput,
  { T, B, lengths: withLengths }: { T: number; B: number; lengths: boolean },
  strategy: BackwardStrategy,
  kind: SoftwareBackwardKind | undefined,
  seed: number,
): Promise<void> {
  const config = resolveConfig(input);
  if (backwardUnfit(strategy, config, B, h.ctx.limits)) return;
  const fits = (k: SoftwareBackwardKind) => {
    try {
      return softwareBackwardLayout(config, B, config.bidirectional ? 2 : 1, true, k) !== undefined;
    } catch {
      return false;
    }
  };
  if (kind && !fits(kind)) return;
  const next = seededUniform(700 + seed);
  const s = new PlanSizes(config, T, B);
  const { D, H, Hout } = s;
  const I = config.input_size;
  const TB = T * B;
  const lstm = config.mode === 'LSTM';
  const proj = config.proj_size > 0;
  const weights = Object.fromEntries(
    parameterSpecs(config).map((p) => [
      p.name,
      values(
        next,
        p.shape.reduce((a, b) => a * b, 1),
      ).map((v) => Math.fround(0.8 * v)),
    ]),
  );
  const x = Float64Array.from(values(next, TB * I), Math.fround);
  const h0 = Float64Array.from(values(next, D * B * Hout), Math.fround);
  const c0 = lstm ? Float64Array.from(values(next, D * B * H), Math.fround) : undefined;
  const lengths = Int32Array.from({ length: B }, (_, b) => (withLengths && b % 2 === 0 ? 1 + Math.floor(next() * T) : T));
  const dOut = Float64Array.from(values(next, TB * D * Hout), Math.fround);

  // The layer's packed weights, as the trainer's flat buffer holds them.
  const section = recurrentSection('rnn', config, 0);
  const flat = new Float32Array(section.size);
  section.pack(Object.fromEntries(Object.entries(weights).map(([k, v]) => [`rnn.${k}`, v])), flat);
  const params = h.tensor(flat, [flat.length]);
  const at = section.layers[0];
  const { pre, c: cAt, hRaw, cPrev, hPrev, size: savedSize } = savedLayout(config, T, B);
  const saved = h.tensor(new Float64Array(savedSize), [savedSize]);
  const lengthsT = h.u32(lengths);
  const initial = h.tensor(packState(s, h0, c0), [s.layerState]);
  const states = [h.tensor(new Float64Array(s.layerState), [s.layerState]), h.tensor(new Float64Array(s.layerState), [s.layerState])] as const;
  const output = h.tensor(new Float64Array(TB * D * Hout), [TB, D * Hout]);
  const gx = h.tensor(new Float64Array(D * TB * H * GATE_LANES), [D * TB * H * GATE_LANES]);
  const index = stepIndex(h, T + 1);
  const commands: Command[] = [copy(initial.buffer, 0, states[0].buffer, 0, s.layerState * 4)];
  commands.push(
    ...recordPerStepLayer(
      h,
      {
        tag: 'forward',
        config,
        format: 'f32',
        T,
        B,
        weights: {
          params: { ...params, shape: [at.offsets.total * GATE_LANES] },
          offsets: at.offsets,
          inputSize: I,
          wHr: at.wHr === undefined ? undefined : { ...params, offset: at.wHr, shape: [D * config.proj_size * H] },
        },
        input: h.tensor(x, [TB, I]),
        output,
        lengths: lengthsT,
        gx,
      },
      index,
      states,
      proj ? h.tensor(new Float64Array(D * B * H), [D * B * H]) : undefined,
      { saved, pre, c: cAt, hRaw },
    ),
    recordShift(h, { label: 'shift', T, B, H, Hout, D, lstm, lengths: lengthsT, output, initial, saved, at: { hPrev, cPrev, c: cAt } }),
  );
  // The backward, into poisoned gradient buffers.
  const dgSize = D * TB * H * GATE_LANES;
  const dgLayout = { x: 0, h: config.mode === 'GRU' ? dgSize : 0, hist: (config.mode === 'GRU' ? 2 : 1) * dgSize };
  const dg = h.tensor(new Float64Array(dgLayout.hist + D * TB * Hout).fill(Number.NaN), [dgLayout.hist + D * TB * Hout]);
  const kernels = backwardKernels(h.ctx, config, B, 'f32', kind);
  // The regrouped W_hh of the 'blocked4' kernel after the state, poisoned too (its dispatch fills it).
  const gLayout = gradientStateLayout(
    config,
    T,
    B,
    strategy === 'persistent' ? (kernels.regroup?.floats ?? 0) : strategy === 'per-step' ? hiddenScratchFloats(config, B) : 0,
  );
  const gstateSize = gLayout.size;
  const gstate = h.tensor(new Float64Array(gstateSize).fill(Number.NaN), [gstateSize]);
  commands.push(
    clear(gstate.buffer, 0, gLayout.wT * 4),
    ...recordLayerBackward(h, {
      tag: 'backward',
      config,
      T,
      B,
      strategy,
      kernels,
      lengths: lengthsT,
      saved,
      at: { pre, c: cAt, hRaw, hPrev, cPrev },
      params,
      start: at.start,
      wHh: at.offsets.wHh,
      wHr: at.wHr,
      dOut: h.tensor(dOut, [TB, D * Hout]),
      dg,
      dgLayout,
      gstate,
      index,
    }),
  );
  await h.run(commands);
  const dgGot = await h.read(dg, dgLayout.hist + D * TB * Hout);
  const savedGot = await h.read(saved, savedSize);
  const gstateGot = await h.read(gstate, gstateSize);

  const f = recurrentTrainForward(config, weights, { T, B, x, lengths, h0, c0 }, { training: false, seed: 0 });
  const want = recurrentTrainBackward(config, weights, f, dOut, undefined);
  const ih = weightGradient(config, dgGot.subarray(dgLayout.x, dgLayout.x + dgSize), (_d, tb, k) => x[tb * I + k], TB, I);
  const hh = weightGradient(
    config,
    dgGot.subarray(dgLayout.h, dgLayout.h + dgSize),
    (d, tb, k) => savedGot[hPrev + ((d * T + Math.floor(tb / B)) * B + (tb % B)) * Hout + k],
    TB,
    Hout,
  );
  for (let d = 0; d < D; d++) {
    const tensor = (data: ArrayLike<number>) => ({ shape: [data.length], data: Float64Array.from(data) });
    expectClose(`dW_ih direction ${d}`, tensor(ih[d]), tensor(want.grads[paramName('weight_ih', 0, d)]), 1e-4);
    expectClose(`dW_hh direction ${d}`, tensor(hh[d]), tensor(want.grads[paramName('weight_hh', 0, d)]), 1e-4);
  }
  const dh0 = gstateGot.subarray(gLayout.dh0, gLayout.dh0 + D * B * Hout);
  expectClose('dL/dh0', { shape: [dh0.length], data: dh0 }, { shape: [want.h0.length], data: want.h0 }, 1e-4);
  if (lstm) {
    const dc0 = gstateGot.subarray(gLayout.dc, gLayout.dc + D * B * H);
    expectClose('dL/dc0', { shape: [dc0.length], data: dc0 }, { shape: [want.c0.length], data: want.c0 }, 1e-4);
  }
  expect(Array.from(dgGot.subarray(0, dgLayout.hist)).some(Number.isNaN)).toBe(false);
}
