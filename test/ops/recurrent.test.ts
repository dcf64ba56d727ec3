// The recurrence ops alone — the per-step op with the projection op after it, and the persistent op
// with gx and inline (fused) — on one bidirectional layer, with the input projection gx computed on the
// host: each op's own layouts, pipeline and grid, bound here the way a plan binds them, against the
// float64 reference forward of the same one-layer model. Every mode, odd sizes, lengths, h0 / c0;
// outputs and the spare state slot poisoned with NaN.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RnnConfig, type RnnConfigInput, gateCount, resolveConfig } from '../../src/config.js';
import type { GpuContext } from '../../src/gpu/context.js';
import { contextFor, getDefaultDevice } from '../../src/gpu/device.js';
import { type GpuTensor, tensorBinding } from '../../src/gpu/gpu-tensor.js';
import { GATE_LANES, releaseLayerWeights, uploadLayerWeights } from '../../src/gpu/layer-weights.js';
import { persistentKernel, persistentLayout, persistentUnfit } from '../../src/gpu/ops/persistent.js';
import { projectionGrid, projectionLayout, projectionPipeline } from '../../src/gpu/ops/projection.js';
import { chooseStepLayout, stepGrid, stepLayouts, stepPipeline } from '../../src/gpu/ops/recurrent-step.js';
import { type Command, copy, dispatch } from '../../src/gpu/program.js';
import { PlanSizes, packState, splitState } from '../../src/gpu/state.js';
import { PERSISTENT_DIMS_FIELDS, STEP_DIMS_FIELDS, packU32Struct } from '../../src/gpu/uniforms.js';
import { paramName } from '../../src/params.js';
import { referenceForward } from '../../src/reference/forward.js';
import { GPU_RTOL, expectClose } from '../support/compare.js';
import { randomCase } from '../support/random.js';
import { OpHarness, variantContext } from './harness.js';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await contextFor(await getDefaultDevice());
});

/** gx (D, T, B, H, 4) = W_ih·x_t + b_ih per direction, gate-interleaved, in float64 then stored f32. */
function hostInputProjection(
  config: RnnConfig,
  weights: Record<string, { data: ArrayLike<number> }>,
  x: ArrayLike<number>,
  T: number,
  B: number,
): Float32Array {
  const D = config.bidirectional ? 2 : 1;
  const H = config.hidden_size;
  const I = config.input_size;
  const G = gateCount(config.mode);
  const gx = new Float32Array(D * T * B * H * GATE_LANES);
  for (let d = 0; d < D; d++) {
    const w = weights[paramName('weight_ih', 0, d)].data;
    const bias = config.bias ? weights[paramName('bias_ih', 0, d)].data : undefined;
    for (let m = 0; m < T * B; m++) {
      for (let g = 0; g < G; g++) {
        for (let j = 0; j < H; j++) {
          let acc = bias ? bias[g * H + j] : 0;
          for (let k = 0; k < I; k++) acc += w[(g * H + j) * I + k] * x[m * I + k];
          gx[((d * T * B + m) * H + j) * GATE_LANES + g] = acc;
        }
      }
    }
  }
  return gx;
}

const CONFIGS: RnnConfigInput[] = [
  { mode: 'LSTM', input_size: 3, hidden_size: 17, bidirectional: true },
  { mode: 'LSTM', input_size: 2, hidden_size: 9, proj_size: 5, bidirectional: true },
  { mode: 'GRU', input_size: 4, hidden_size: 17, bidirectional: true },
  { mode: 'RNN_TANH', input_size: 1, hidden_size: 1, bidirectional: true },
  { mode: 'RNN_RELU', input_size: 5, hidden_size: 3, bidirectional: true },
  // H % 4 == 0: h_{t−1} read four columns per load (the step kernel's H_VEC4).
  { mode: 'LSTM', input_size: 3, hidden_size: 12, bidirectional: true },
];
const OPS = ['per-step', 'persistent', 'fused'] as const;
/**
 * Below B 8 a software adapter runs `step` with blocks as wide as the batch allows (B 3: 2 + 1; B 6:
 * 4 + 2). From B 8 it takes the per-step kernel's wide entry (stepWideGroups): B 8 one full
 * group of 8 rows; B 11 a group of 8 and a partial one of 3; B 17 one block of 32
 * rows with 17 (groups 2 and 3 partly and wholly clamped); B 40 blocks of 16 rows, the last with 8; B
 * 100 three full blocks of 32 and one of 4. The
 * persistent and fused kernels meet such batches in the agreement suite.
 */
const SHAPES: { T: number; B: number; ops: readonly (typeof OPS)[number][] }[] = [
  { T: 7, B: 3, ops: OPS },
  { T: 1, B: 1, ops: OPS },
  { T: 3, B: 6, ops: ['per-step'] },
  { T: 2, B: 8, ops: ['per-step'] },
  { T: 4, B: 11, ops: ['per-step'] },
  { T: 3, B: 17, ops: ['per-step'] },
  { T: 3, B: 40, ops: ['per-step'] },
  { T: 2, B: 100, ops: ['per-step'] },
];

describe('recurrence ops vs the float64 reference (one bidirectional layer, gx from the host)', () => {
  let harness: OpHarness;
  beforeAll(() => {
    harness = new OpHarness(ctx);
  });
  afterAll(() => harness.dispose());

  const cases = CONFIGS.flatMap((config, i) =>
    SHAPES.flatMap((shape, j) =>
      shape.ops.map(
        (op) =>
          [
            `${op} ${config.mode}${config.proj_size ? ` proj ${config.proj_size}` : ''} H=${config.hidden_size} T=${shape.T} B=${shape.B}`,
            config,
            shape,
            op,
            100 * i + j,
          ] as const,
      ),
    ),
  );

  it.each(cases)('%s', (_name, configInput, shape, op, seed) => checkRecurrence(ctx, harness, configInput, shape, op, seed));
});

// The persistent and fused loops with W_hh read from the packed parameters (what training's loops read)
// instead of the texture copy a software adapter's weights carry, which the cases above read there.
describe('recurrence loops vs the float64 reference, W_hh from the parameters (no texture)', () => {
  let harness: OpHarness;
  beforeAll(() => {
    harness = new OpHarness(ctx);
  });
  afterAll(() => harness.dispose());
  const cases = CONFIGS.flatMap((config, i) =>
    (['persistent', 'fused'] as const).map(
      (op) => [`${op} ${config.mode}${config.proj_size ? ` proj ${config.proj_size}` : ''} H=${config.hidden_size} T=7 B=3`, config, op, 800 + i] as const,
    ),
  );
  it.each(cases)('%s', (_name, configInput, op, seed) => checkRecurrence(ctx, harness, configInput, { T: 7, B: 3 }, op, seed, true));
});

// The wide step at four units per invocation (stepWideUnits), on a software adapter with subgroups and
// without: layers wide enough to take it. Four k at a time (H_out four-aligned: 132; 8 and 12 by
// projection) and one at a time (257, 255), with units past H in the last invocation (H 257: three of
// four; 130: two; 259 and 255: one); one group of 8 rows, blocks of 16, the last partly filled.
const FOUR_UNITS: { config: RnnConfigInput; T: number; B: number }[] = [
  { config: { mode: 'LSTM', input_size: 5, hidden_size: 257 }, T: 3, B: 8 },
  { config: { mode: 'GRU', input_size: 3, hidden_size: 132, bidirectional: true }, T: 2, B: 17 },
  { config: { mode: 'LSTM', input_size: 4, hidden_size: 259, proj_size: 8 }, T: 3, B: 40 },
  { config: { mode: 'LSTM', input_size: 3, hidden_size: 130, proj_size: 12, bidirectional: true }, T: 2, B: 17 },
  { config: { mode: 'RNN_TANH', input_size: 2, hidden_size: 255 }, T: 2, B: 9 },
];
// And once more with W_hh read from the packed parameters instead of the texture copy a software
// adapter's weights carry (LayerWeights.wHhTexture): what training's steps read.
for (const [variant, title] of [
  [undefined, 'the wide step with four units per invocation'],
  ['no-subgroups', 'the wide step with four units per invocation, without subgroups'],
  ['w-hh-params', 'the wide step with four units per invocation, W_hh from the parameters (no texture)'],
] as const) {
  describe(title, () => {
    const other = variant === 'no-subgroups' ? variantContext(variant) : undefined;
    let own: OpHarness | undefined;
    beforeAll(() => {
      if (!other) own = new OpHarness(ctx);
    });
    afterAll(() => own?.dispose());
    it.each(
      FOUR_UNITS.map(
        (c, i) => [`${c.config.mode} H=${c.config.hidden_size}${c.config.proj_size ? ` proj ${c.config.proj_size}` : ''} T=${c.T} B=${c.B}`, c, i] as const,
      ),
    )('%s', async (_name, { config, T, B }, i) => {
      const context = other?.ctx ?? ctx;
      const resolved = resolveConfig(config);
      const D = resolved.bidirectional ? 2 : 1;
      const Hout = resolved.proj_size || resolved.hidden_size;
      expect(chooseStepLayout(resolved.hidden_size, Hout, D, B, context.isSoftwareAdapter)).toMatchObject({ wideUnits: 4, vec4H: Hout % 4 === 0 });
      await checkRecurrence(context, other?.harness ?? own!, config, { T, B }, 'per-step', 600 + i, variant === 'w-hh-params');
    });
  });
}

// The batches from 8 rows again on two other contexts: as a GPU records them — `step`, one row per
// invocation at these sizes (its blocks of 2 or 4 rows start past GPU_TARGET_INVOCATIONS; B 3 and B 6
// cover them above) — and without subgroups, where the wide step loads h once per row instead of once
// per subgroup.
const VARIANTS = [
  ['gpu-layouts', "per-step op with a GPU's layouts (the `step` entry)", 70],
  ['no-subgroups', 'per-step op without subgroups (the loads of devices that lack them)', 50],
] as const;
for (const [variant, title, seedBase] of VARIANTS) {
  describe(title, () => {
    const other = variantContext(variant);
    const cases = CONFIGS.flatMap((config, i) =>
      SHAPES.filter((shape) => shape.B >= 8).map(
        (shape, j) =>
          [
            `per-step ${config.mode}${config.proj_size ? ` proj ${config.proj_size}` : ''} H=${config.hidden_size} T=${shape.T} B=${shape.B}`,
            config,
            shape,
            100 * i + seedBase + j,
          ] as const,
      ),
    );
    it.each(cases)('%s', (_name, configInput, shape, seed) => checkRecurrence(other.ctx, other.harness, configInput, shape, 'per-step', seed));
  });
}

async function checkRecurrence(
  ctx: GpuContext,
  harness: OpHarness,
  configInput: RnnConfigInput,
  { T, B }: { T: number; B: number },
  op: (typeof OPS)[number],
  seed: number,
  wHhFromParams = false,
): Promise<void> {
  {
    const config = resolveConfig(configInput);
    if (op !== 'per-step' && persistentUnfit(config, B, ctx.limits)) return;
    const c = randomCase(config, 9000 + seed, { T, B, h0: true, lengths: B > 1 });
    const s = new PlanSizes(config, T, B);
    const { D, H, Hout } = s;
    const weights = uploadLayerWeights(ctx, config, c.weights, 0, 'f32');
    // A software adapter's weights carry the texture the wide step reads, so these cases test it.
    expect(weights.wHhTexture !== undefined).toBe(ctx.isSoftwareAdapter);
    try {
      const gx = harness.tensor(hostInputProjection(config, c.weights, c.input.data, T, B), [D * T * B * H * GATE_LANES]);
      const x = harness.tensor(c.input.data, [T * B, config.input_size]);
      const lengths = harness.u32(c.lengths ?? new Int32Array(B).fill(T));
      const out = harness.tensor(new Float32Array(s.sequence).fill(Number.NaN), [s.sequence]);
      const state = packState(s, c.h0?.data, c.c0?.data);
      const slot0 = harness.tensor(state, [s.layerState]);
      const commands: Command[] = [];
      const params = tensorBinding(weights.params, true);
      if (op === 'per-step') {
        const slot1 = harness.tensor(new Float32Array(s.layerState).fill(Number.NaN), [s.layerState]);
        commands.push(...perStep(ctx, harness, config, s, weights, { gx, lengths, out, slot0, slot1 }, params, wHhFromParams));
      } else {
        const layout = persistentLayout(config, B, ctx.limits, ctx.isSoftwareAdapter);
        // As the plan records it: W_hh from the weights' texture where they have one (software adapters).
        const texture = wHhFromParams ? undefined : weights.wHhTexture;
        const kernel = persistentKernel(ctx, config.mode, config.proj_size > 0, layout, op === 'fused', 'f32', false, false, texture !== undefined);
        const dims = harness.uniform(
          'dims',
          packU32Struct(PERSISTENT_DIMS_FIELDS, {
            T,
            B,
            H,
            H_out: Hout,
            D,
            I: config.input_size,
            w_ih_offset: weights.offsets.wIh,
            b_ih_offset: weights.offsets.bIh,
            w_hh_offset: weights.offsets.wHh,
            b_hh_offset: weights.offsets.bHh,
            w_hr_offset: 0,
          }),
        );
        const group = ctx.bindGroup('persistent-test', kernel.layout, [
          dims,
          tensorBinding(lengths),
          tensorBinding(x),
          params,
          tensorBinding(out),
          weights.wHr ? tensorBinding(weights.wHr, true) : params,
          tensorBinding(slot0),
          tensorBinding(gx),
          ctx.textureBinding(texture),
        ]);
        const noSave = ctx.bindGroup('persistent-test-save', kernel.saveLayout, [
          harness.uniform('save', new Uint32Array(4)),
          { buffer: harness.storage('noSave', 4) },
        ]);
        commands.push(dispatch('persistent-test', kernel.pipeline, [group, noSave], kernel.grid));
      }
      await harness.run(commands);
      const want = referenceForward(config, c.weights, { T, B, unbatched: false, x: c.input.data, h0: c.h0?.data, c0: c.c0?.data, lengths: c.lengths });
      expectClose('output', { shape: [s.sequence], data: await harness.read(out, s.sequence) }, { shape: [s.sequence], data: want.output }, GPU_RTOL);
      const got = splitState(s, await harness.read(slot0, s.layerState));
      expectClose('h_n', { shape: [got.hN.length], data: got.hN }, { shape: [got.hN.length], data: want.hN }, GPU_RTOL);
      if (want.cN) expectClose('c_n', { shape: [want.cN.length], data: got.cN! }, { shape: [want.cN.length], data: want.cN }, GPU_RTOL);
    } finally {
      releaseLayerWeights(ctx, weights);
    }
  }
}

/** T step dispatches (each followed by the projection's with proj_size), state ping-ponging; the final state copied home to slot 0. */
function perStep(
  ctx: GpuContext,
  h: OpHarness,
  config: RnnConfig,
  s: PlanSizes,
  weights: ReturnType<typeof uploadLayerWeights>,
  t: { gx: GpuTensor; lengths: GpuTensor; out: GpuTensor; slot0: GpuTensor; slot1: GpuTensor },
  params: GPUBufferBinding,
  wHhFromParams: boolean,
): Command[] {
  const { T, B, D, H, Hout } = s;
  const layout = chooseStepLayout(H, Hout, D, B, ctx.isSoftwareAdapter);
  // As recordPerStepLayer: the wide entry reads the weights' W_hh texture where they have one.
  const texture = layout.wideGroups > 0 && !wHhFromParams ? weights.wHhTexture : undefined;
  const layouts = stepLayouts(ctx);
  const proj = config.proj_size > 0;
  const hRaw = proj ? h.tensor(new Float32Array(D * B * H).fill(Number.NaN), [D * B * H]) : undefined;
  const dims = h.uniform(
    'dims',
    packU32Struct(STEP_DIMS_FIELDS, { T, B, H, H_out: Hout, D, w_hh_offset: weights.offsets.wHh, b_hh_offset: weights.offsets.bHh, w_hr_offset: 0 }),
  );
  const stride = ctx.limits.minUniformBufferOffsetAlignment;
  const indices = new Uint32Array((T * stride) / 4);
  for (let i = 0; i < T; i++) indices[(i * stride) / 4] = i;
  const index = ctx.bindGroup('index', layouts.index, [
    { ...h.uniform('index', indices), size: 16 },
    h.uniform('save', new Uint32Array(4)),
    { buffer: h.storage('noSave', 4) },
  ]);
  const main = ctx.bindGroupAt('step', layouts.main, [
    [0, dims],
    [1, tensorBinding(t.lengths)],
    [2, tensorBinding(t.gx)],
    [3, params],
    [4, tensorBinding(hRaw ?? t.out)],
    [6, ctx.textureBinding(texture)],
  ]);
  const [a, b] = [tensorBinding(t.slot0, true), tensorBinding(t.slot1, true)];
  const state = [ctx.bindGroup('s01', layouts.state, [a, b, a]), ctx.bindGroup('s10', layouts.state, [b, a, b])];
  const step = stepPipeline(ctx, config.mode, proj, layout, 'f32', false, false, texture !== undefined);
  const project =
    proj && hRaw && weights.wHr
      ? {
          pipeline: projectionPipeline(ctx, 'f32'),
          group: ctx.bindGroupAt('project', projectionLayout(ctx), [
            [0, dims],
            [1, tensorBinding(t.lengths)],
            [4, tensorBinding(t.out)],
            [5, tensorBinding(weights.wHr, true)],
            [6, tensorBinding(hRaw)],
          ]),
          grid: projectionGrid(D, B, Hout, ctx.limits),
        }
      : undefined;
  const commands: Command[] = [];
  for (let i = 0; i < T; i++) {
    const offsets = { group: index, offsets: [i * stride] };
    commands.push(dispatch(`step${i}`, step, [main, state[i % 2], offsets], stepGrid(H, D, B, layout, ctx.limits)));
    if (project) commands.push(dispatch(`project${i}`, project.pipeline, [project.group, state[i % 2], offsets], project.grid));
  }
  if (T % 2 === 1) commands.push(copy(t.slot1.buffer, 0, t.slot0.buffer, 0, s.layerState * 4));
  return commands;
}
