/**
 * The GPU agreement suite, run unchanged in Node (Dawn) and in headless Chromium (puppeteer):
 *  - every PyTorch fixture on WebGPU with each recurrent strategy (per-step, and persistent and fused
 *    where the shape fits them), outputs poisoned with NaN first, ‖a−b‖/‖b‖ ≤ 1e-4;
 *  - seeded random problems vs the float64 CPU reference, sizes that are not multiples of the
 *    workgroup size or tile (1, 3, 17, 33, 65, 257), saturating inputs, lengths, h0/c0;
 *  - streaming: a sequence pushed in chunks equals one forward over it, state kept on the GPU;
 *  - steady state: a second forward of the same shape creates no GPU objects (both strategies);
 *  - the strategy chooser's threshold: forcing each strategy on shapes at the edge;
 *  - a caller-provided GPUDevice, also running the kernel layouts meant for the other kind of adapter
 *    (GPU layouts on a software adapter and vice versa), so both families are checked anywhere.
 * Each case runs inside a validation error scope and destroys what it made.
 */
import type { WebGpuRnn } from '../../src/backends/webgpu.js';
import type { RnnConfigInput } from '../../src/config.js';
import { contextFor, requestDevice } from '../../src/gpu/device.js';
import { PERSISTENT_MAX_UNITS_PER_INVOCATION } from '../../src/gpu/kernels.js';
import { type Strategy, persistentUnfit } from '../../src/gpu/strategy.js';
import { resolveConfig } from '../../src/config.js';
import type { ForwardResult } from '../../src/inputs.js';
import { type Rnn, createRnn } from '../../src/rnn.js';
import type { Tensor } from '../../src/tensor.js';
import { GPU_RTOL, expectClose } from '../support/compare.js';
import { type LoadBytes, type Manifest, loadFixture } from '../support/fixtures.js';
import { type RandomCase, randomCase } from '../support/random.js';

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

async function gpuModel(config: RnnConfigInput, weights: RandomCase['weights'], strategy: Strategy, device?: GPUDevice): Promise<WebGpuRnn> {
  const rnn = gpuOf(await createRnn({ config, weights, backend: 'webgpu', device, strategy }));
  rnn.debug.poison = true;
  return rnn;
}

/** The strategies that can run a shape: per-step always, persistent and fused where the state fits. */
function strategiesFor(config: RnnConfigInput, B: number): Strategy[] {
  // The limits every WebGPU device guarantees (the persistent kernel asks for no more).
  const limits = { maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupStorageSize: 16384 } as GPUSupportedLimits;
  return persistentUnfit(resolveConfig(config), B, limits) ? ['per-step'] : ['per-step', 'persistent', 'fused'];
}

function fixtureCases(load: LoadBytes, manifest: Manifest, device: GPUDevice): GpuCase[] {
  return manifest.cases.flatMap((meta) => strategiesFor(meta.config, meta.B).map((strategy) => ({
    name: `fixture ${meta.name} [${strategy}]`,
    run: () => withValidation(device, async () => {
      const f = await loadFixture(load, meta);
      const rnn = await gpuModel(meta.config, f.weights, strategy);
      try {
        return compareAll(await rnn.forward(f.input, f.options), f.expected);
      } finally {
        rnn.destroy();
      }
    }),
  })));
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
  { name: 'LSTM bi proj 2 layers, lengths', config: { mode: 'LSTM', input_size: 3, hidden_size: 33, proj_size: 17, num_layers: 2, bidirectional: true }, T: 11, B: 5, h0: true, lengths: true },
  { name: 'LSTM saturating x·10, B=17', config: { mode: 'LSTM', input_size: 3, hidden_size: 17, batch_first: true }, T: 40, B: 17, scale: 10 },
  { name: 'GRU bi lengths h0 B=17', config: { mode: 'GRU', input_size: 3, hidden_size: 17, bidirectional: true }, T: 33, B: 17, h0: true, lengths: true },
  { name: 'GRU H=65 3 layers no bias', config: { mode: 'GRU', input_size: 65, hidden_size: 65, num_layers: 3, bias: false }, T: 7, B: 1 },
  { name: 'RNN_RELU I=257 2 layers', config: { mode: 'RNN_RELU', input_size: 257, hidden_size: 3, num_layers: 2 }, T: 17, B: 1, h0: true },
  { name: 'RNN_TANH H=65 bi 3 layers batch_first', config: { mode: 'RNN_TANH', input_size: 5, hidden_size: 65, num_layers: 3, bidirectional: true, batch_first: true }, T: 9, B: 3, lengths: true },
  { name: 'RNN_TANH saturating T=257 B=1 H=1', config: { mode: 'RNN_TANH', input_size: 1, hidden_size: 1 }, T: 257, B: 1, scale: 10 },
];

function randomCases(device: GPUDevice): GpuCase[] {
  return RANDOM_SPECS.flatMap((spec, i) => strategiesFor(spec.config, spec.B).map((strategy) => ({
    name: `random ${spec.name} [${strategy}]`,
    run: () => withValidation(device, async () => {
      const c = randomCase(spec.config, 1000 + i, spec);
      const options = { h0: c.h0, c0: c.c0, lengths: c.lengths };
      const cpu = await createRnn({ config: c.config, weights: c.weights, backend: 'cpu' });
      const expected = await cpu.forward(c.input, options);
      const rnn = await gpuModel(c.config, c.weights, strategy);
      try {
        return compareAll(await rnn.forward(c.input, options), expected);
      } finally {
        rnn.destroy();
      }
    }),
  })));
}

/**
 * The chooser's edge: D·B·H = 256·4 units is the most the persistent kernel takes (4 units per
 * invocation of a 256-wide workgroup); one unit more and forcing it is a clear error, while 'auto'
 * still runs (per-step).
 */
function thresholdCases(device: GPUDevice): GpuCase[] {
  const atEdge: RnnConfigInput = { mode: 'GRU', input_size: 3, hidden_size: 64 * PERSISTENT_MAX_UNITS_PER_INVOCATION };
  const pastEdge: RnnConfigInput = { mode: 'GRU', input_size: 3, hidden_size: 64 * PERSISTENT_MAX_UNITS_PER_INVOCATION + 1 };
  const B = 4;
  const agree = (config: RnnConfigInput, strategy: Strategy | 'auto', seed: number) => withValidation(device, async () => {
    const c = randomCase(config, seed, { T: 3, B, h0: true });
    const expected = await (await createRnn({ config: c.config, weights: c.weights, backend: 'cpu' })).forward(c.input, { h0: c.h0 });
    const rnn = gpuOf(await createRnn({ config: c.config, weights: c.weights, strategy }));
    rnn.debug.poison = true;
    try {
      return compareAll(await rnn.forward(c.input, { h0: c.h0 }), expected);
    } finally {
      rnn.destroy();
    }
  });
  return [
    { name: 'threshold: persistent at the edge (D·B·H = 1024)', run: () => agree(atEdge, 'persistent', 4000) },
    { name: 'threshold: fused at the edge (D·B·H = 1024)', run: () => agree(atEdge, 'fused', 4000) },
    { name: 'threshold: per-step at the edge (D·B·H = 1024)', run: () => agree(atEdge, 'per-step', 4000) },
    { name: 'threshold: auto past the edge (D·B·H = 1028)', run: () => agree(pastEdge, 'auto', 4001) },
    {
      name: 'threshold: forcing persistent past the edge is a clear error',
      run: async () => {
        const c = randomCase(pastEdge, 4002, { T: 2, B });
        const rnn = await createRnn({ config: c.config, weights: c.weights, strategy: 'persistent' });
        try {
          await rnn.forward(c.input);
        } catch (e) {
          const message = (e as Error).message;
          if (!/strategy "persistent" cannot run this shape: 1028 units/.test(message)) throw new Error(`unexpected error: ${message}`);
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
  { name: 'GRU 2 layers', config: { mode: 'GRU', input_size: 4, hidden_size: 33 , num_layers: 2 } },
  { name: 'RNN_TANH', config: { mode: 'RNN_TANH', input_size: 2, hidden_size: 3 } },
];

function streamCases(device: GPUDevice): GpuCase[] {
  const chunks = [1, 4, 2, 7, 3]; // T = 17, uneven chunk sizes (odd and even: state parity)
  const T = chunks.reduce((a, b) => a + b, 0);
  return STREAM_SPECS.flatMap((spec, i) => strategiesFor(spec.config, 3).map((strategy) => ({
    name: `stream ${spec.name} [${strategy}]: chunks ${chunks.join('+')} equal one forward`,
    run: () => withValidation(device, async () => {
      const c = randomCase(spec.config, 2000 + i, { T, B: 3, h0: true });
      const rnn = await gpuModel(c.config, c.weights, strategy);
      try {
        const whole = await rnn.forward(c.input, { h0: c.h0, c0: c.c0 });
        const stream = rnn.stream({ batch: 3, h0: c.h0, c0: c.c0 });
        const outputs: Tensor[] = [];
        let t = 0;
        for (const [k, n] of chunks.entries()) {
          // The third chunk is pushed without reading back: its output stays on the GPU.
          const out = await stream.push(timeSlice(c.input, t, t + n), { read: k !== 2 });
          if (k === 2) {
            if (out !== undefined) throw new Error('push with read: false returned an output');
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
        const cpu = await (await createRnn({ config: c.config, weights: c.weights, backend: 'cpu' })).forward(c.input, { h0: c.h0, c0: c.c0 });
        return `vs forward: ${compareAll(streamed, whole)}; vs cpu: ${compareAll(streamed, cpu)}`;
      } finally {
        rnn.destroy();
      }
    }),
  })));
}

function resourceCases(device: GPUDevice): GpuCase[] {
  return [
    ...(['per-step', 'persistent', 'fused'] as const).map((strategy) => ({
      name: `steady state [${strategy}]: a second forward of the same shape creates no GPU objects`,
      run: () => withValidation(device, async () => {
        const c = randomCase({ mode: 'LSTM', input_size: 3, hidden_size: 5, num_layers: 2, proj_size: 2 }, 3000, { T: 6, B: 2 });
        const rnn = await gpuModel(c.config, c.weights, strategy);
        rnn.debug.poison = false;
        try {
          await rnn.forward(c.input);
          const before = rnn.gpu.ctx.stats();
          const again = await rnn.forward(c.input);
          const after = rnn.gpu.ctx.stats();
          if (JSON.stringify(before) !== JSON.stringify(after)) {
            throw new Error(`GPU objects created on a repeated call: before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`);
          }
          const cpu = await (await createRnn({ config: c.config, weights: c.weights, backend: 'cpu' })).forward(c.input);
          return `${JSON.stringify(after)}; ${compareAll(again, cpu)}`;
        } finally {
          rnn.destroy();
        }
      }),
    })),
    {
      name: 'a caller-provided GPUDevice is used and left usable',
      run: async () => {
        const own = await requestDevice();
        own.pushErrorScope('validation');
        try {
          const c = randomCase({ mode: 'GRU', input_size: 3, hidden_size: 4 }, 3001, { T: 3, B: 2 });
          const rnn = await gpuModel(c.config, c.weights, 'per-step', own);
          if (rnn.gpu.ctx.device !== own) throw new Error('the model did not run on the given device');
          const got = await rnn.forward(c.input);
          rnn.destroy();
          // The device still works after the model is gone (the engine never destroys a caller's device).
          const probe = own.createBuffer({ size: 16, usage: 0x0008 /* COPY_DST */ });
          probe.destroy();
          const cpu = await (await createRnn({ config: c.config, weights: c.weights, backend: 'cpu' })).forward(c.input);
          return compareAll(got, cpu);
        } finally {
          const error = await own.popErrorScope();
          own.destroy();
          if (error) throw new Error(`WebGPU validation error: ${error.message}`);
        }
      },
    },
  ];
}

/**
 * Layouts are chosen per kind of adapter (software: narrow persistent workgroups, widest batch
 * blocks; GPU: one unit per invocation, blocks that keep enough invocations). On a device of its own,
 * this flips the choice and runs fixtures through every strategy, so the other family is tested too.
 */
function otherLayoutCases(load: LoadBytes, manifest: Manifest): GpuCase[] {
  const picks = ['lstm_l2_bi_bf_proj3_h0_len', 'gru_l3_bi_bf_nobias_h0_len', 'rnn_relu_l3_uni_nobias_h0_len', 'gru_l1_uni_i3_h4_t1_b17', 'lstm_l2_uni_bf_len_i2_h3_t6_b17'];
  const metas = picks.map((p) => manifest.cases.find((c) => c.name.startsWith(p))).filter((m) => m !== undefined);
  return [{
    name: `the other adapter kind's layouts: ${metas.length} fixtures × every strategy`,
    run: async () => {
      if (metas.length !== picks.length) throw new Error('a picked fixture is missing from the manifest');
      const own = await requestDevice();
      const ctx = await contextFor(own);
      ctx.isSoftwareAdapter = !ctx.isSoftwareAdapter;
      own.pushErrorScope('validation');
      const notes: string[] = [];
      try {
        for (const meta of metas) {
          const f = await loadFixture(load, meta);
          for (const strategy of strategiesFor(meta.config, meta.B)) {
            const rnn = await gpuModel(meta.config, f.weights, strategy, own);
            try {
              notes.push(`${meta.name} [${strategy}] ${compareAll(await rnn.forward(f.input, f.options), f.expected)}`);
            } finally {
              rnn.destroy();
            }
          }
        }
        return `${ctx.isSoftwareAdapter ? 'software' : 'GPU'} layouts: ${notes.join('; ')}`;
      } finally {
        const error = await own.popErrorScope();
        own.destroy();
        if (error) throw new Error(`WebGPU validation error: ${error.message}`);
      }
    },
  }];
}

/** Every case of the suite. `device` is the engine's default device (for error scopes). */
export function gpuAgreementCases(load: LoadBytes, manifest: Manifest, device: GPUDevice): GpuCase[] {
  return [
    ...fixtureCases(load, manifest, device), ...randomCases(device), ...thresholdCases(device), ...streamCases(device), ...resourceCases(device),
    ...otherLayoutCases(load, manifest),
  ];
}

/** Case names without a device (the browser test lists them before the page runs). */
export function gpuAgreementCaseNames(manifest: Manifest): string[] {
  const fake = {} as GPUDevice;
  return gpuAgreementCases(async () => new Uint8Array(), manifest, fake).map((c) => c.name);
}
