/**
 * The GPU agreement suite, run whole in Node (Dawn); headless Chromium (puppeteer) runs each model on
 * one of its strategies (test/browser/selection.ts picks by case name). The cases:
 *  - every PyTorch fixture on WebGPU with each recurrent strategy (per-step, and persistent and fused
 *    where the shape fits them), outputs poisoned with NaN first, ‖a−b‖/‖b‖ ≤ 1e-4;
 *  - seeded random problems vs the float64 CPU reference, sizes that are not multiples of the
 *    workgroup size or tile (1, 3, 17, 33, 65, 257), saturating inputs, lengths, h0/c0;
 *  - streaming: a sequence pushed in chunks equals one forward over it, state kept on the GPU;
 *  - steady state: a second forward of the same shape creates no GPU objects (both strategies);
 *  - the strategy chooser's threshold: forcing each strategy on shapes at the edge;
 *  - a caller-provided GPUDevice, also running the kernel layouts meant for the other kind of adapter
 *    (GPU layouts on a software adapter and vice versa), so both families are checked anywhere;
 *  - hardening (hardening.ts) and training (training.ts): backpropagation and optimizers vs PyTorch.
 * Each case runs inside a validation error scope and destroys what it made.
 *
 * With precision 'f16' the same cases run with half-precision weights (needs shader-f16). The truth is
 * then the float64 reference on the same weights rounded to half, so the bound stays the f32 one: the
 * arithmetic is f32 either way, and only a wrong f16 path (lost bits, misplaced halves) shows. How far
 * f16 weights move the result from the unrounded model is noted, and checked in its own case.
 */
import type { WebGpuRnn } from '../../src/backends/webgpu.js';
import type { RnnConfigInput } from '../../src/config.js';
import { diagnostics } from '../../src/diagnostics.js';
import { contextFor, hostGpu, requestDevice } from '../../src/gpu/device.js';
import { PERSISTENT_MAX_UNITS_PER_INVOCATION, persistentUnfit } from '../../src/gpu/ops/persistent.js';
import type { Precision } from '../../src/gpu/wgsl.js';
import type { Strategy } from '../../src/gpu/strategy.js';
import { resolveConfig } from '../../src/config.js';
import { roundToFloat16 } from '../../src/float16.js';
import type { ForwardOptions, ForwardResult } from '../../src/inputs.js';
import type { Weights } from '../../src/params.js';
import { type Rnn, createRnn } from '../../src/rnn.js';
import type { Tensor } from '../../src/tensor.js';
import { GPU_RTOL, checksMade, expectClose, expectThat, relativeError } from '../support/compare.js';
import { type LoadBytes, type Manifest, loadFixture } from '../support/fixtures.js';
import { randomCase } from '../support/random.js';
import type { TrainingManifests } from '../support/training-fixtures.js';
import { hardeningCases } from './hardening.js';
import { trainingSuiteCases } from './training.js';

export interface GpuCase {
  name: string;
  /** Resolves to a short note (the errors seen); throws on disagreement. */
  run(): Promise<string>;
}

/** Runs `body` with the engine's device inside a validation error scope; fails on any GPU error. */
async function withValidation<T>(device: GPUDevice, body: () => Promise<T>): Promise<T> {
  device.pushErrorScope('validation');
  let result: T;
  try {
    result = await body();
  } finally {
    const error = await device.popErrorScope();
    // biome-ignore lint/correctness/noUnsafeFinally: a GPU validation error explains whatever the body threw, so it is the one reported
    if (error) throw new Error(`WebGPU validation error: ${error.message}`);
  }
  return result;
}

function gpuOf(rnn: Rnn): WebGpuRnn {
  if (rnn.backend !== 'webgpu') throw new Error(`expected the WebGPU backend, got ${rnn.backend}`);
  return rnn as WebGpuRnn;
}

/** Compares every result tensor; returns a note with the relative errors. */
function compareAll(actual: ForwardResult, expected: { output: Tensor; h_n: Tensor; c_n?: Tensor }): string {
  const notes = [`output ${expectClose('output', actual.output, expected.output, GPU_RTOL).toExponential(1)}`];
  notes.push(`h_n ${expectClose('h_n', actual.h_n, expected.h_n, GPU_RTOL).toExponential(1)}`);
  if (expected.c_n) notes.push(`c_n ${expectClose('c_n', actual.c_n, expected.c_n, GPU_RTOL).toExponential(1)}`);
  else if (actual.c_n) throw new Error('c_n returned for a model without a cell state');
  return notes.join(', ');
}

/** The weights as the GPU holds them: each value rounded to half for 'f16'. */
function storedWeights(weights: Weights, precision: Precision): Weights {
  if (precision === 'f32') return weights;
  return Object.fromEntries(Object.entries(weights).map(([name, t]) => [name, { shape: t.shape, data: Float64Array.from(t.data, roundToFloat16) }]));
}

/** What the GPU must reproduce: the float64 CPU reference on the weights as the GPU stores them. */
async function reference(config: RnnConfigInput, weights: Weights, input: Tensor, options: ForwardOptions, precision: Precision): Promise<ForwardResult> {
  return (await createRnn({ config, weights: storedWeights(weights, precision), backend: 'cpu' })).forward(input, options);
}

async function gpuModel(config: RnnConfigInput, weights: Weights, strategy: Strategy | 'auto', precision: Precision, device?: GPUDevice): Promise<WebGpuRnn> {
  const rnn = gpuOf(await createRnn({ config, weights, backend: 'webgpu', device, strategy, precision }));
  rnn.debug.poison = true;
  return rnn;
}

/** Tags a case name with its precision (f32 names are unchanged). */
function named(name: string, precision: Precision): string {
  return precision === 'f32' ? name : `${name} [${precision}]`;
}

/** The strategies that can run a shape: per-step always, persistent and fused where the state fits. */
function strategiesFor(config: RnnConfigInput, B: number, turn?: number): Strategy[] {
  // The limits every WebGPU device guarantees (the persistent kernel asks for no more).
  const limits = {
    maxComputeInvocationsPerWorkgroup: 256,
    maxComputeWorkgroupSizeX: 256,
    maxComputeWorkgroupStorageSize: 16384,
    maxComputeWorkgroupsPerDimension: 65535,
  } as GPUSupportedLimits;
  const fitting: Strategy[] = persistentUnfit(resolveConfig(config), B, limits) ? ['per-step'] : ['per-step', 'persistent', 'fused'];
  return turn === undefined ? fitting : [fitting[turn % fitting.length]];
}

/**
 * Every fixture with every strategy that fits it (f32); with half-precision weights, which change only
 * how the kernels read W, each fixture with one of them, the strategies taking turns over the fixtures
 * (every strategy's f16 reading still runs on a share of every kind of model, in a third of the time).
 */
function fixtureCases(load: LoadBytes, manifest: Manifest, device: GPUDevice, precision: Precision): GpuCase[] {
  return manifest.cases.flatMap((meta, i) =>
    strategiesFor(meta.config, meta.B, precision === 'f32' ? undefined : i).map((strategy) => ({
      name: named(`fixture ${meta.name} [${strategy}]`, precision),
      run: () =>
        withValidation(device, async () => {
          const f = await loadFixture(load, meta);
          const rnn = await gpuModel(meta.config, f.weights, strategy, precision);
          try {
            const got = await rnn.forward(f.input, f.options);
            if (precision === 'f32') return compareAll(got, f.expected);
            const expected = await reference(meta.config, f.weights, f.input, f.options, precision);
            return `${compareAll(got, expected)}; output vs PyTorch (unrounded weights) ${relativeError(got.output.data, f.expected.output.data).toExponential(1)}`;
          } finally {
            rnn.destroy();
          }
        }),
    })),
  );
}

interface RandomSpec {
  name: string;
  config: RnnConfigInput;
  T: number;
  B: number;
  h0?: boolean;
  lengths?: boolean;
  scale?: number;
}

const RANDOM_SPECS: RandomSpec[] = [
  { name: 'LSTM H=257 I=17 B=3', config: { mode: 'LSTM', input_size: 17, hidden_size: 257 }, T: 5, B: 3, h0: true },
  {
    name: 'LSTM bi proj 2 layers, lengths',
    config: { mode: 'LSTM', input_size: 3, hidden_size: 33, proj_size: 17, num_layers: 2, bidirectional: true },
    T: 11,
    B: 5,
    h0: true,
    lengths: true,
  },
  { name: 'LSTM saturating x·10, B=17', config: { mode: 'LSTM', input_size: 3, hidden_size: 17, batch_first: true }, T: 40, B: 17, scale: 10 },
  {
    name: 'LSTM proj lengths B=13 (software: blocks of 8 and 5 rows)',
    config: { mode: 'LSTM', input_size: 5, hidden_size: 33, proj_size: 7 },
    T: 9,
    B: 13,
    h0: true,
    lengths: true,
  },
  {
    name: 'LSTM lengths h0 B=2 (software: W_hh cached, 8 quads and 1)',
    config: { mode: 'LSTM', input_size: 4, hidden_size: 33 },
    T: 20,
    B: 2,
    h0: true,
    lengths: true,
  },
  {
    name: 'LSTM proj lengths B=2 (software: W_hh cached, 2 quads and 1)',
    config: { mode: 'LSTM', input_size: 4, hidden_size: 37, proj_size: 9 },
    T: 12,
    B: 2,
    h0: true,
    lengths: true,
  },
  { name: 'GRU bi lengths h0 B=17', config: { mode: 'GRU', input_size: 3, hidden_size: 17, bidirectional: true }, T: 33, B: 17, h0: true, lengths: true },
  { name: 'GRU H=65 3 layers no bias', config: { mode: 'GRU', input_size: 65, hidden_size: 65, num_layers: 3, bias: false }, T: 7, B: 1 },
  { name: 'RNN_RELU I=257 2 layers', config: { mode: 'RNN_RELU', input_size: 257, hidden_size: 3, num_layers: 2 }, T: 17, B: 1, h0: true },
  {
    name: 'RNN_TANH H=65 bi 3 layers batch_first',
    config: { mode: 'RNN_TANH', input_size: 5, hidden_size: 65, num_layers: 3, bidirectional: true, batch_first: true },
    T: 9,
    B: 3,
    lengths: true,
  },
  { name: 'RNN_TANH saturating T=257 B=1 H=1', config: { mode: 'RNN_TANH', input_size: 1, hidden_size: 1 }, T: 257, B: 1, scale: 10 },
];

function randomCases(device: GPUDevice, precision: Precision): GpuCase[] {
  return RANDOM_SPECS.flatMap((spec, i) =>
    strategiesFor(spec.config, spec.B).map((strategy) => ({
      name: named(`random ${spec.name} [${strategy}]`, precision),
      run: () =>
        withValidation(device, async () => {
          const c = randomCase(spec.config, 1000 + i, spec);
          const options = { h0: c.h0, c0: c.c0, lengths: c.lengths };
          const expected = await reference(c.config, c.weights, c.input, options, precision);
          const rnn = await gpuModel(c.config, c.weights, strategy, precision);
          try {
            return compareAll(await rnn.forward(c.input, options), expected);
          } finally {
            rnn.destroy();
          }
        }),
    })),
  );
}

/**
 * The persistent kernel's edge: hidden_size 256·4 = 1024 is the most it takes (4 units per invocation
 * of a 256-wide workgroup, whatever the batch: rows go to their own workgroups); one unit more and
 * forcing it is a clear error, while 'auto' still runs (per-step).
 */
function thresholdCases(device: GPUDevice, precision: Precision): GpuCase[] {
  const atEdge: RnnConfigInput = { mode: 'GRU', input_size: 3, hidden_size: 256 * PERSISTENT_MAX_UNITS_PER_INVOCATION };
  const pastEdge: RnnConfigInput = { mode: 'GRU', input_size: 3, hidden_size: 256 * PERSISTENT_MAX_UNITS_PER_INVOCATION + 1 };
  const B = 4;
  const agree = (config: RnnConfigInput, strategy: Strategy | 'auto', seed: number) =>
    withValidation(device, async () => {
      const c = randomCase(config, seed, { T: 3, B, h0: true });
      const expected = await reference(c.config, c.weights, c.input, { h0: c.h0 }, precision);
      const rnn = await gpuModel(c.config, c.weights, strategy, precision);
      try {
        return compareAll(await rnn.forward(c.input, { h0: c.h0 }), expected);
      } finally {
        rnn.destroy();
      }
    });
  return [
    { name: named('threshold: persistent at the edge (H = 1024, B = 4)', precision), run: () => agree(atEdge, 'persistent', 4000) },
    { name: named('threshold: fused at the edge (H = 1024, B = 4)', precision), run: () => agree(atEdge, 'fused', 4000) },
    { name: named('threshold: per-step at the edge (H = 1024, B = 4)', precision), run: () => agree(atEdge, 'per-step', 4000) },
    { name: named('threshold: auto past the edge (H = 1025, B = 4)', precision), run: () => agree(pastEdge, 'auto', 4001) },
    {
      name: named('threshold: forcing persistent past the edge is a clear error', precision),
      run: async () => {
        const c = randomCase(pastEdge, 4002, { T: 2, B });
        const rnn = await createRnn({ config: c.config, weights: c.weights, strategy: 'persistent', precision });
        try {
          await rnn.forward(c.input);
        } catch (e) {
          const message = (e as Error).message;
          expectThat(
            /strategy "persistent" cannot run this shape: hidden_size 1025 would give one invocation 5 units/.test(message),
            () => `unexpected error: ${message}`,
          );
          return `rejected: ${message}`;
        } finally {
          rnn.destroy();
        }
        throw new Error('forcing persistent past its limit did not fail');
      },
    },
  ];
}

/** Slices time steps [t0, t1) of a time-major (T, B, F) tensor. */
function timeSlice(x: Tensor, t0: number, t1: number): Tensor {
  const stride = x.shape[1] * x.shape[2];
  return { shape: [t1 - t0, x.shape[1], x.shape[2]], data: x.data.slice(t0 * stride, t1 * stride) };
}

function concatTime(parts: Tensor[]): Tensor {
  const data = new Float32Array(parts.reduce((n, p) => n + p.data.length, 0));
  let offset = 0;
  for (const p of parts) {
    data.set(p.data, offset);
    offset += p.data.length;
  }
  return { shape: [parts.reduce((n, p) => n + p.shape[0], 0), parts[0].shape[1], parts[0].shape[2]], data };
}

const STREAM_SPECS: Array<{ name: string; config: RnnConfigInput }> = [
  { name: 'LSTM proj 2 layers', config: { mode: 'LSTM', input_size: 3, hidden_size: 17, proj_size: 5, num_layers: 2 } },
  { name: 'GRU 2 layers', config: { mode: 'GRU', input_size: 4, hidden_size: 33, num_layers: 2 } },
  { name: 'RNN_TANH', config: { mode: 'RNN_TANH', input_size: 2, hidden_size: 3 } },
];

function streamCases(device: GPUDevice, precision: Precision): GpuCase[] {
  const chunks = [1, 4, 2, 7, 3]; // T = 17, uneven chunk sizes (odd and even: state parity)
  const T = chunks.reduce((a, b) => a + b, 0);
  return STREAM_SPECS.flatMap((spec, i) =>
    strategiesFor(spec.config, 3).map((strategy) => ({
      name: named(`stream ${spec.name} [${strategy}]: chunks ${chunks.join('+')} equal one forward`, precision),
      run: () =>
        withValidation(device, async () => {
          const c = randomCase(spec.config, 2000 + i, { T, B: 3, h0: true });
          const rnn = await gpuModel(c.config, c.weights, strategy, precision);
          try {
            const whole = await rnn.forward(c.input, { h0: c.h0, c0: c.c0 });
            const stream = rnn.stream({ batch: 3, h0: c.h0, c0: c.c0 });
            const outputs: Tensor[] = [];
            let t = 0;
            for (const [k, n] of chunks.entries()) {
              // The third chunk is pushed without reading back: its output stays on the GPU.
              const out = await stream.push(timeSlice(c.input, t, t + n), { read: k !== 2 });
              if (k === 2) {
                expectThat(out === undefined, () => 'push with read: false returned an output');
                outputs.push(timeSlice(whole.output, t, t + n));
              } else {
                outputs.push(out!);
              }
              t += n;
            }
            const state = await stream.state();
            stream.close();
            // Compare against the whole-sequence GPU run, and both against the CPU reference.
            const streamed = { output: concatTime(outputs), ...state };
            const cpu = await reference(c.config, c.weights, c.input, { h0: c.h0, c0: c.c0 }, precision);
            return `vs forward: ${compareAll(streamed, whole)}; vs cpu: ${compareAll(streamed, cpu)}`;
          } finally {
            rnn.destroy();
          }
        }),
    })),
  );
}

function resourceCases(device: GPUDevice, precision: Precision): GpuCase[] {
  return [
    ...(['per-step', 'persistent', 'fused'] as const).map((strategy) => ({
      name: named(`steady state [${strategy}]: a second forward of the same shape creates no GPU objects`, precision),
      run: () =>
        withValidation(device, async () => {
          const c = randomCase({ mode: 'LSTM', input_size: 3, hidden_size: 5, num_layers: 2, proj_size: 2 }, 3000, { T: 6, B: 2 });
          const rnn = await gpuModel(c.config, c.weights, strategy, precision);
          rnn.debug.poison = false;
          try {
            await rnn.forward(c.input);
            const before = diagnostics(rnn).gpu!.context;
            const again = await rnn.forward(c.input);
            const after = diagnostics(rnn).gpu!.context;
            if (JSON.stringify(before) !== JSON.stringify(after)) {
              throw new Error(`GPU objects created on a repeated call: before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`);
            }
            const cpu = await reference(c.config, c.weights, c.input, {}, precision);
            return `${JSON.stringify(after)}; ${compareAll(again, cpu)}`;
          } finally {
            rnn.destroy();
          }
        }),
    })),
    {
      name: named('a caller-provided GPUDevice is used and left usable', precision),
      run: async () => {
        const own = await requestDevice();
        own.pushErrorScope('validation');
        try {
          const c = randomCase({ mode: 'GRU', input_size: 3, hidden_size: 4 }, 3001, { T: 3, B: 2 });
          const rnn = await gpuModel(c.config, c.weights, 'per-step', precision, own);
          expectThat(diagnostics(rnn).gpu!.device === own, () => 'the model did not run on the given device');
          const got = await rnn.forward(c.input);
          rnn.destroy();
          // The device still works after the model is gone (the engine never destroys a caller's device).
          const probe = own.createBuffer({ size: 16, usage: 0x0008 /* COPY_DST */ });
          probe.destroy();
          const cpu = await reference(c.config, c.weights, c.input, {}, precision);
          return compareAll(got, cpu);
        } finally {
          const error = await own.popErrorScope();
          own.destroy();
          // biome-ignore lint/correctness/noUnsafeFinally: a GPU validation error explains whatever the body threw, so it is the one reported
          if (error) throw new Error(`WebGPU validation error: ${error.message}`);
        }
      },
    },
  ];
}

/** A model whose device is lost fails fast, with an error that says so, instead of hanging. */
function deviceLostCases(precision: Precision): GpuCase[] {
  return [
    {
      name: named('a lost device gives a clear error on the next call, not a hang', precision),
      run: async () => {
        const own = await requestDevice();
        const c = randomCase({ mode: 'GRU', input_size: 3, hidden_size: 5 }, 3002, { T: 4, B: 2 });
        const rnn = await gpuModel(c.config, c.weights, 'auto', precision, own);
        try {
          await rnn.forward(c.input);
          own.destroy();
          const info = await own.lost;
          const expected = /^WebGPU device lost \(.+\): create the model again$/;
          const onForward = await rnn.forward(c.input).then(
            () => 'no error',
            (e: Error) => e.message,
          );
          expectThat(expected.test(onForward), () => `forward on a lost device: ${onForward}`);
          const onCreate = await createRnn({ config: c.config, weights: c.weights, device: own }).then(
            () => 'no error',
            (e: Error) => e.message,
          );
          expectThat(expected.test(onCreate), () => `createRnn on a lost device: ${onCreate}`);
          return `lost (${info.reason}): ${onForward}`;
        } finally {
          rnn.destroy();
        }
      },
    },
  ];
}

/**
 * Layouts are chosen per kind of adapter (software: narrow persistent workgroups, widest batch
 * blocks; GPU: one unit per invocation, blocks that keep enough invocations). On a device of its own,
 * this flips the choice and runs fixtures through every strategy, so the other family is tested too —
 * and without subgroups, so the kernels' plain load paths are as well.
 */
function otherLayoutCases(load: LoadBytes, manifest: Manifest, precision: Precision): GpuCase[] {
  const picks = [
    'lstm_l2_bi_bf_proj3_h0_len',
    'gru_l3_bi_bf_nobias_h0_len',
    'rnn_relu_l3_uni_nobias_h0_len',
    'gru_l1_uni_i3_h4_t1_b17',
    'lstm_l2_uni_bf_len_i2_h3_t6_b17',
  ];
  const metas = picks.map((p) => manifest.cases.find((c) => c.name.startsWith(p))).filter((m) => m !== undefined);
  return [
    {
      name: named(`the other adapter kind's layouts, without subgroups: ${metas.length} fixtures × every strategy`, precision),
      run: async () => {
        expectThat(metas.length === picks.length, () => 'a picked fixture is missing from the manifest');
        const own = await requestDevice();
        const ctx = await contextFor(own);
        ctx.isSoftwareAdapter = !ctx.isSoftwareAdapter;
        ctx.subgroups = false; // and the plain kernels, which devices without subgroups run
        own.pushErrorScope('validation');
        const notes: string[] = [];
        try {
          for (const meta of metas) {
            const f = await loadFixture(load, meta);
            for (const strategy of strategiesFor(meta.config, meta.B)) {
              const rnn = await gpuModel(meta.config, f.weights, strategy, precision, own);
              try {
                const expected = precision === 'f32' ? f.expected : await reference(meta.config, f.weights, f.input, f.options, precision);
                notes.push(`${meta.name} [${strategy}] ${compareAll(await rnn.forward(f.input, f.options), expected)}`);
              } finally {
                rnn.destroy();
              }
            }
          }
          return `${ctx.isSoftwareAdapter ? 'software' : 'GPU'} layouts: ${notes.join('; ')}`;
        } finally {
          const error = await own.popErrorScope();
          own.destroy();
          // biome-ignore lint/correctness/noUnsafeFinally: a GPU validation error explains whatever the body threw, so it is the one reported
          if (error) throw new Error(`WebGPU validation error: ${error.message}`);
        }
      },
    },
  ];
}

/**
 * f32 suite: f16 weights on a device without shader-f16 are read as packed words, and agree. f16
 * suite: the weights really are stored as half — half the bytes, and outputs that move away from the
 * unrounded model by about half's rounding (while matching the rounded one to f32 accuracy).
 */
function precisionCases(device: GPUDevice, precision: Precision): GpuCase[] {
  const config: RnnConfigInput = { mode: 'LSTM', input_size: 17, hidden_size: 33, num_layers: 2, proj_size: 5 };
  if (precision === 'f32') {
    return [
      {
        name: 'precision "f16" on a device without shader-f16 reads packed halves',
        run: async () => {
          const adapter = await (await hostGpu())!.requestAdapter();
          const plain = await adapter!.requestDevice(); // no features requested
          plain.pushErrorScope('validation');
          try {
            const c = randomCase(config, 5000, { T: 5, B: 2 });
            const rnn = await gpuModel(config, c.weights, 'auto', 'f16', plain);
            try {
              const format = diagnostics(rnn).gpu!.weightFormat;
              expectThat(format === 'f16-packed', () => `weight format ${format}, expected f16-packed`);
              return compareAll(await rnn.forward(c.input), await reference(config, c.weights, c.input, {}, 'f16'));
            } finally {
              rnn.destroy();
            }
          } finally {
            const error = await plain.popErrorScope();
            plain.destroy();
            // biome-ignore lint/correctness/noUnsafeFinally: a GPU validation error explains whatever the body threw, so it is the one reported
            if (error) throw new Error(`WebGPU validation error: ${error.message}`);
          }
        },
      },
    ];
  }
  return [
    {
      name: named('half-precision weights: half the bytes, and rounded as half', precision),
      run: () =>
        withValidation(device, async () => {
          const c = randomCase(config, 5001, { T: 9, B: 3, h0: true });
          const options = { h0: c.h0, c0: c.c0 };
          const half = await gpuModel(config, c.weights, 'auto', precision);
          const full = await gpuModel(config, c.weights, 'auto', 'f32');
          try {
            const [halfBytes, fullBytes] = [diagnostics(half).gpu!.heldBytes, diagnostics(full).gpu!.heldBytes];
            expectThat(halfBytes * 2 === fullBytes, () => `weights take ${halfBytes} bytes as ${precision}, ${fullBytes} as f32: expected half`);
            const got = await half.forward(c.input, options);
            const rounded = compareAll(got, await reference(config, c.weights, c.input, options, precision));
            const unrounded = relativeError(got.output.data, (await reference(config, c.weights, c.input, options, 'f32')).output.data);
            // Half has 11 significant bits (relative rounding ≤ 2^-12 ≈ 2.4e-4 per weight).
            expectThat(unrounded > 1e-5 && unrounded < 1e-2, () => `output vs unrounded weights ${unrounded}: not what half-precision weights give`);
            return `${halfBytes} vs ${fullBytes} bytes; vs rounded weights: ${rounded}; output vs unrounded ${unrounded.toExponential(1)}`;
          } finally {
            half.destroy();
            full.destroy();
          }
        }),
    },
  ];
}

/**
 * A case whose note ends with how many checks it made (`[N checks]`); one that made none fails, so a
 * case that silently compares nothing cannot pass. Runners assert the count is there.
 */
function counted(c: GpuCase): GpuCase {
  return {
    name: c.name,
    run: async () => {
      const before = checksMade();
      const note = await c.run();
      const n = checksMade() - before;
      if (n === 0) throw new Error(`the case made no check (note: ${note})`);
      return `${note} [${n} checks]`;
    },
  };
}

/** What every runner asserts of a passed case's note. */
export const CHECKED_NOTE = /\[[1-9]\d* checks\]$/;

/**
 * Every case of the suite. `device` is the engine's default device (for error scopes). With f32, the
 * training cases (training.ts) of the training manifests `training` come last.
 */
export function gpuAgreementCases(
  load: LoadBytes,
  manifest: Manifest,
  device: GPUDevice,
  precision: Precision = 'f32',
  training: TrainingManifests = { sequence: [], seq2seq: [] },
): GpuCase[] {
  return [
    ...fixtureCases(load, manifest, device, precision),
    ...randomCases(device, precision),
    ...thresholdCases(device, precision),
    ...streamCases(device, precision),
    ...resourceCases(device, precision),
    ...otherLayoutCases(load, manifest, precision),
    ...precisionCases(device, precision),
    ...deviceLostCases(precision),
    ...(precision === 'f32' ? [...hardeningCases(), ...trainingSuiteCases(load, training)] : []),
  ].map(counted);
}

/** Case names without a device (the browser test lists them before the page runs). */
export function gpuAgreementCaseNames(manifest: Manifest, training: TrainingManifests = { sequence: [], seq2seq: [] }): string[] {
  const fake = {} as GPUDevice;
  return gpuAgreementCases(async () => new Uint8Array(), manifest, fake, 'f32', training).map((c) => c.name);
}
