/**
 * Hardening cases of the GPU suite, run in Node (Dawn) and in headless Chromium alike:
 *  - ordering: random interleavings of forward / stream / push / reset / state / close / destroy over
 *    several models and streams, issued without awaiting, against the same script on the CPU backend
 *    (which runs every call when it is made): each call's result, or error code, must be the same;
 *  - the reported races: a stream's close() / reset() while its push runs, destroy() of one model
 *    while another's forward is in flight;
 *  - NaN in weights propagates as PyTorch's does (every mode and strategy), and checkFinite rejects it;
 *  - work past the device's buffer limits is split (over time, over the batch) and still exact;
 *  - faults: the device destroyed mid-sequence, a forced validation error, 1,000 create / forward /
 *    destroy cycles with a flat live-buffer count.
 */
import type { RnnConfigInput } from '../../src/config.js';
import { RnnError } from '../../src/errors.js';
import { contextFor, requestDevice } from '../../src/gpu/device.js';
import type { Strategy } from '../../src/gpu/strategy.js';
import type { ForwardResult } from '../../src/inputs.js';
import { type Rnn, type RnnStream, createRnn } from '../../src/rnn.js';
import { writeSafetensors } from '../../src/safetensors.js';
import type { Tensor } from '../../src/tensor.js';
import { GPU_RTOL, expectClose, expectThat } from '../support/compare.js';
import { randn, randomCase, rng } from '../support/random.js';
import type { GpuCase } from './gpu-agreement.js';

/** The error code of a rejection, or a description of a non-library error (which fails the case). */
function codeOf(e: unknown): string {
  return e instanceof RnnError ? e.code : `not an RnnError: ${(e as Error)?.stack ?? String(e)}`;
}

/** Runs `f`, capturing a synchronous throw as a rejection (an API may do either). */
function attempt<T>(f: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(f());
  } catch (e) {
    return Promise.reject(e);
  }
}

/** What one call of a script gave: a value (tensors) or an error code. */
type Outcome = { ok: true; value: unknown } | { ok: false; code: string };

async function settle(p: Promise<unknown>): Promise<Outcome> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (e: unknown) => ({ ok: false as const, code: codeOf(e) }),
  );
}

function compareOutcome(step: string, gpu: Outcome, cpu: Outcome): void {
  if (gpu.ok !== cpu.ok || (!gpu.ok && !cpu.ok && gpu.code !== cpu.code)) {
    throw new Error(
      `${step}: WebGPU ${gpu.ok ? 'succeeded' : `failed with ${(gpu as { code: string }).code}`}, CPU ${cpu.ok ? 'succeeded' : `failed with ${(cpu as { code: string }).code}`}`,
    );
  }
  if (!gpu.ok || !cpu.ok) return;
  const tensors = (v: unknown): Record<string, Tensor> =>
    v && typeof v === 'object' && 'shape' in v ? { output: v as Tensor } : ((v ?? {}) as Record<string, Tensor>);
  const [g, c] = [tensors(gpu.value), tensors(cpu.value)];
  for (const key of Object.keys(c)) if (c[key]) expectClose(`${step} ${key}`, g[key], c[key], GPU_RTOL);
}

const ORDER_MODELS: RnnConfigInput[] = [
  { mode: 'LSTM', input_size: 5, hidden_size: 9, num_layers: 2, proj_size: 4 },
  { mode: 'GRU', input_size: 5, hidden_size: 7 },
];

/**
 * A random script of calls on two models, made without awaiting anything: the same script (same
 * seed, same tensors) runs on each backend and the outcomes are compared call by call.
 */
async function runScript(seed: number, backend: 'webgpu' | 'cpu', device?: GPUDevice): Promise<Array<[string, Outcome]>> {
  const next = rng(seed);
  const pick = (n: number) => Math.floor(next() * n);
  const models: Rnn[] = [];
  for (const config of ORDER_MODELS) {
    const c = randomCase(config, seed + models.length, { T: 1, B: 1 });
    models.push(await createRnn({ config: c.config, weights: c.weights, backend, device }));
  }
  const streams: Array<{ model: number; stream?: RnnStream; failed?: boolean }> = [];
  // Each call's outcome is captured as it is made, so no rejection goes unhandled while earlier ones are awaited.
  const calls: Array<[string, Promise<Outcome>]> = [];
  const B = 2;
  const state = (m: number) => {
    const config = models[m].config;
    const Hout = config.proj_size || config.hidden_size;
    return {
      h0: randn(next, [config.num_layers, B, Hout]),
      ...(config.mode === 'LSTM' ? { c0: randn(next, [config.num_layers, B, config.hidden_size]) } : {}),
    };
  };
  for (let step = 0; step < 40; step++) {
    const kind = pick(10);
    const m = pick(models.length);
    const model = models[m];
    if (kind <= 2) {
      const T = 1 + pick(6);
      const x = randn(next, [T, B, 5]);
      const withState = pick(2) === 0 ? state(m) : {};
      const lengths = pick(2) === 0 ? [T, 1 + pick(T)] : undefined;
      calls.push([`${step}: forward m${m} T=${T}`, settle(attempt(() => model.forward(x, { ...withState, lengths })))]);
    } else if (kind === 3 || streams.length === 0) {
      const withState = pick(2) === 0 ? state(m) : {};
      const entry: (typeof streams)[number] = { model: m };
      streams.push(entry);
      calls.push([
        `${step}: stream on m${m}`,
        settle(
          attempt(() => {
            entry.stream = model.stream({ batch: B, ...withState });
          }).catch((e) => {
            entry.failed = true;
            throw e;
          }),
        ),
      ]);
    } else {
      const s = streams[pick(streams.length)];
      const id = streams.indexOf(s);
      const stream = () => {
        if (!s.stream) throw new RnnError(s.failed ? 'DESTROYED' : 'OPTION_INVALID', 'this script step has no stream');
        return s.stream;
      };
      if (kind <= 6) {
        const T = 1 + pick(4);
        const x = randn(next, [T, B, 5]);
        const read = pick(3) !== 0;
        calls.push([`${step}: push s${id} T=${T}${read ? '' : ' (no read)'}`, settle(attempt(() => stream().push(x, { read })))]);
      } else if (kind === 7) {
        const withState = pick(2) === 0 ? state(s.model) : {};
        calls.push([`${step}: reset s${id}`, settle(attempt(() => stream().reset(withState)))]);
      } else if (kind === 8) {
        calls.push([`${step}: state s${id}`, settle(attempt(() => stream().state()))]);
      } else {
        calls.push([`${step}: close s${id}`, settle(attempt(() => stream().close()))]);
      }
    }
    // Now and then a model is destroyed with calls in flight; later calls on it must fail cleanly.
    if (step > 25 && pick(12) === 0) calls.push([`${step}: destroy m${m}`, settle(attempt(() => model.destroy()))]);
  }
  const outcomes: Array<[string, Outcome]> = [];
  for (const [name, p] of calls) outcomes.push([name, await p]);
  for (const model of models) model.destroy();
  return outcomes;
}

function orderingCases(): GpuCase[] {
  return [1, 2, 3, 4, 5, 6].map((k) => ({
    name: `ordering: random interleaving #${k} of forward, stream, push, reset, state, close, destroy (2 models) matches the same calls on the CPU backend`,
    run: async () => {
      const seed = 7000 + 100 * k;
      const [gpu, cpu] = [await runScript(seed, 'webgpu'), await runScript(seed, 'cpu')];
      gpu.forEach(([name, outcome], i) => compareOutcome(name, outcome, cpu[i][1]));
      const failed = cpu.filter(([, o]) => !o.ok).length;
      return `${gpu.length} calls, ${failed} rejected alike (${[...new Set(cpu.filter(([, o]) => !o.ok).map(([, o]) => (o as { code: string }).code))].join(', ') || 'none'})`;
    },
  }));
}

/** The reported race: close() / reset() while a push is still running must not change what it computes. */
function streamRaceCases(): GpuCase[] {
  const config: RnnConfigInput = { mode: 'LSTM', input_size: 5, hidden_size: 32, num_layers: 2, proj_size: 8 };
  return [
    {
      name: "ordering: a stream closed or reset while its push runs, and a stream opened right after, give the forward's numbers",
      run: async () => {
        const c = randomCase(config, 7900, { T: 16, B: 2, h0: true });
        const gpu = await createRnn({ config: c.config, weights: c.weights });
        const cpu = await createRnn({ config: c.config, weights: c.weights, backend: 'cpu' });
        try {
          const fromState = await cpu.forward(c.input, { h0: c.h0, c0: c.c0 });
          const fromZeros = await cpu.forward(c.input);
          const c1 = gpu.stream({ batch: 2, h0: c.h0, c0: c.c0 });
          const p1 = c1.push(c.input);
          c1.close();
          const c2 = gpu.stream({ batch: 2 });
          const p2 = c2.push(c.input);
          const c3 = gpu.stream({ batch: 2, h0: c.h0, c0: c.c0 });
          const p3 = c3.push(c.input);
          c3.reset();
          const p4 = c3.push(c.input);
          const afterClose = await c1.push(c.input).then(() => 'resolved', codeOf);
          expectClose("closed stream's push", (await p1)!, fromState.output, GPU_RTOL);
          expectClose("next stream's push", (await p2)!, fromZeros.output, GPU_RTOL);
          expectClose('push before reset', (await p3)!, fromState.output, GPU_RTOL);
          expectClose('push after reset', (await p4)!, fromZeros.output, GPU_RTOL);
          expectThat(afterClose === 'DESTROYED', () => `push after close: ${afterClose}`);
          c2.close();
          c3.close();
          return 'close and reset took effect after the pushes issued before them';
        } finally {
          gpu.destroy();
        }
      },
    },
    {
      name: "ordering: destroy() of a model while its forward and another model's are in flight leaves both exact",
      run: async () => {
        // Same configuration, so the destroyed model's buffers are exactly the sizes the other one's new plans take from the pool.
        const config: RnnConfigInput = { mode: 'LSTM', input_size: 3, hidden_size: 13 };
        const a = randomCase(config, 7901, { T: 12, B: 3 });
        const b = randomCase(config, 7902, { T: 12, B: 3 });
        const cpuA = await createRnn({ config, weights: a.weights, backend: 'cpu' });
        const cpuB = await createRnn({ config, weights: b.weights, backend: 'cpu' });
        const keep = await createRnn({ config, weights: b.weights });
        try {
          for (let round = 0; round < 6; round++) {
            const T = 12 - round; // a new shape each round: the kept model's plan for it comes from the pool
            const [xa, xb] = [a, b].map((c) => ({ shape: [T, 3, 3], data: c.input.data.slice(0, T * 9) }));
            const [wantA, wantB] = [await cpuA.forward(xa), await cpuB.forward(xb)];
            const gone = await createRnn({ config, weights: a.weights });
            await gone.forward(xa); // its plan for this shape exists, so destroy() has buffers to give back
            const pa = gone.forward(xa);
            // Destroyed at a different moment of that forward each round: queued, recording, mapping its result.
            if (round > 0) await new Promise((resolve) => setTimeout(resolve, 2 * (round - 1)));
            gone.destroy();
            // The kept model has no plan for this shape yet: it takes one from the pool, where the destroyed
            // model's buffers go — which must not happen before the destroyed model's forward is done with them.
            const pb = keep.forward(xb);
            const pb2 = keep.forward(xb);
            const late = await gone.forward(xa).then(() => 'resolved', codeOf);
            expectClose(`round ${round}: destroyed model's forward`, (await pa).output, wantA.output, GPU_RTOL);
            expectClose(`round ${round}: other model`, (await pb).output, wantB.output, GPU_RTOL);
            expectClose(`round ${round}: other model again`, (await pb2).output, wantB.output, GPU_RTOL);
            expectThat(late === 'DESTROYED', () => `forward after destroy: ${late}`);
          }
          return '6 rounds';
        } finally {
          keep.destroy();
        }
      },
    },
  ];
}

const NAN_MODES: RnnConfigInput[] = [
  { mode: 'LSTM', input_size: 3, hidden_size: 5 },
  { mode: 'GRU', input_size: 3, hidden_size: 5 },
  { mode: 'RNN_TANH', input_size: 3, hidden_size: 5 },
  { mode: 'RNN_RELU', input_size: 3, hidden_size: 5 },
];

/** Indices of the NaN elements of a result, for comparing where NaN reached. */
function nanPattern(r: ForwardResult): string {
  const where = (t: Tensor | undefined) => (t ? Array.from(t.data, (v) => (Number.isNaN(v) ? 'N' : '.')).join('') : '');
  return `${where(r.output)}|${where(r.h_n)}|${where(r.c_n)}`;
}

function nanCases(): GpuCase[] {
  return [
    {
      name: 'NaN: one NaN weight reaches the same outputs as on the CPU reference (and PyTorch), every mode and strategy; 0xFF weights give NaN; checkFinite rejects both',
      run: async () => {
        const notes: string[] = [];
        for (const [i, config] of NAN_MODES.entries()) {
          const c = randomCase(config, 7950 + i, { T: 4, B: 2 });
          const weights = { ...c.weights, weight_hh_l0: { shape: c.weights.weight_hh_l0.shape, data: Float32Array.from(c.weights.weight_hh_l0.data) } };
          weights.weight_hh_l0.data[1] = Number.NaN;
          const want = nanPattern(await (await createRnn({ config: c.config, weights, backend: 'cpu' })).forward(c.input));
          expectThat(want.includes('N') && want.includes('.'), () => `${c.config.mode}: the reference pattern ${want} should have NaN and finite elements`);
          for (const strategy of ['per-step', 'persistent', 'fused'] as Strategy[]) {
            const rnn = await createRnn({ config: c.config, weights, strategy });
            try {
              const got = nanPattern(await rnn.forward(c.input));
              expectThat(got === want, () => `${c.config.mode} [${strategy}]: NaN at ${got}, the reference at ${want}`);
            } finally {
              rnn.destroy();
            }
          }
          notes.push(`${c.config.mode} ${want.split('N').length - 1} NaN`);
        }
        // A weights file whose data bytes are all 0xFF: every f32 is a NaN.
        const config: RnnConfigInput = { mode: 'GRU', input_size: 3, hidden_size: 4 };
        const c = randomCase(config, 7960, { T: 3, B: 2 });
        const file = writeSafetensors(c.weights);
        const dataStart = 8 + Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
        file.fill(0xff, dataStart);
        const rnn = await createRnn({ config, weights: file });
        try {
          const r = await rnn.forward(c.input);
          expectThat(Array.from(r.output.data).every(Number.isNaN), () => '0xFF weights gave finite outputs');
        } finally {
          rnn.destroy();
        }
        const rejected = await createRnn({ config, weights: file, checkFinite: true }).then(() => 'created', codeOf);
        expectThat(rejected === 'NON_FINITE', () => `checkFinite on NaN weights: ${rejected}`);
        return notes.join(', ');
      },
    },
  ];
}

/** Runs `body` with a device of its own whose context reports a small buffer limit, so work must split. */
async function withSmallLimit<T>(bytes: number, body: (device: GPUDevice) => Promise<T>): Promise<T> {
  const device = await requestDevice();
  const ctx = await contextFor(device);
  ctx.limitOverrides = { maxStorageBufferBindingSize: bytes, maxBufferSize: bytes };
  device.pushErrorScope('validation');
  try {
    return await body(device);
  } finally {
    const error = await device.popErrorScope();
    device.destroy();
    // biome-ignore lint/correctness/noUnsafeFinally: a GPU validation error explains whatever the body threw, so it is the one reported
    if (error) throw new Error(`WebGPU validation error: ${error.message}`);
  }
}

function splitCases(): GpuCase[] {
  const agree = async (config: RnnConfigInput, seed: number, shape: { T: number; B: number }, limit: number, strategy: Strategy | 'auto' = 'auto') =>
    withSmallLimit(limit, async (device) => {
      const c = randomCase(config, seed, { ...shape, h0: true, lengths: true });
      const options = { h0: c.h0, c0: c.c0, lengths: c.lengths };
      const want = await (await createRnn({ config: c.config, weights: c.weights, backend: 'cpu' })).forward(c.input, options);
      const rnn = await createRnn({ config: c.config, weights: c.weights, device, strategy });
      try {
        const got = await rnn.forward(c.input, options);
        const notes = [
          `output ${expectClose('output', got.output, want.output, GPU_RTOL).toExponential(1)}`,
          `h_n ${expectClose('h_n', got.h_n, want.h_n, GPU_RTOL).toExponential(1)}`,
        ];
        if (want.c_n) notes.push(`c_n ${expectClose('c_n', got.c_n, want.c_n, GPU_RTOL).toExponential(1)}`);
        return notes.join(', ');
      } finally {
        rnn.destroy();
      }
    });
  return [
    {
      name: 'limits: a unidirectional forward past the buffer limit splits over time (state carried, lengths ending mid-piece)',
      run: () => agree({ mode: 'LSTM', input_size: 3, hidden_size: 9, num_layers: 2, proj_size: 4 }, 7970, { T: 50, B: 3 }, 2048),
    },
    {
      name: 'limits: the same on the per-step strategy, where the step index buffer is what overflows',
      run: () => agree({ mode: 'GRU', input_size: 3, hidden_size: 5 }, 7971, { T: 40, B: 2 }, 4096, 'per-step'),
    },
    {
      name: 'limits: a bidirectional forward past the buffer limit splits over the batch',
      run: () => agree({ mode: 'GRU', input_size: 3, hidden_size: 7, bidirectional: true, num_layers: 2 }, 7972, { T: 12, B: 7 }, 8192),
    },
    {
      name: 'limits: a stream push past the buffer limit splits over time; what cannot split (a too-long bidirectional sequence, too-large weights) is a clear error',
      run: () =>
        withSmallLimit(2048, async (device) => {
          const config: RnnConfigInput = { mode: 'RNN_TANH', input_size: 4, hidden_size: 6, num_layers: 2 };
          const c = randomCase(config, 7973, { T: 60, B: 2, h0: true });
          const want = await (await createRnn({ config, weights: c.weights, backend: 'cpu' })).forward(c.input, { h0: c.h0 });
          const rnn = await createRnn({ config, weights: c.weights, device });
          try {
            const stream = rnn.stream({ batch: 2, h0: c.h0 });
            const out = (await stream.push(c.input))!;
            const err = expectClose('streamed output', out, want.output, GPU_RTOL);
            expectClose('streamed state', (await stream.state()).h_n, want.h_n, GPU_RTOL);
            // A bidirectional sequence cannot split over time: 300 steps of one row need a 9600-byte gx.
            const wide = randomCase({ mode: 'GRU', input_size: 1, hidden_size: 1, bidirectional: true }, 7974, { T: 300, B: 1 });
            const big = await createRnn({ config: wide.config, weights: wide.weights, device });
            const tooBig = await big.forward(wide.input).then(() => 'resolved', codeOf);
            big.destroy();
            expectThat(tooBig === 'LIMIT_EXCEEDED', () => `a bidirectional sequence longer than the limit: ${tooBig}`);
            const heavy = randomCase({ mode: 'LSTM', input_size: 4, hidden_size: 40 }, 7975, { T: 1, B: 1 });
            const refused = await createRnn({ config: heavy.config, weights: heavy.weights, device }).then(() => 'created', codeOf);
            expectThat(refused === 'LIMIT_EXCEEDED', () => `weights above the binding limit: ${refused}`);
            return `stream ${err.toExponential(1)}; unsplittable input and weights: LIMIT_EXCEEDED`;
          } finally {
            rnn.destroy();
          }
        }),
    },
  ];
}

function faultCases(): GpuCase[] {
  return [
    {
      name: 'faults: the device destroyed with calls in flight rejects every one with DEVICE_LOST, none hangs',
      run: async () => {
        const device = await requestDevice();
        const c = randomCase({ mode: 'LSTM', input_size: 3, hidden_size: 6, num_layers: 2 }, 7980, { T: 20, B: 2 });
        const rnn = await createRnn({ config: c.config, weights: c.weights, device });
        await rnn.forward(c.input); // warm: plans and pipelines exist
        const stream = rnn.stream({ batch: 2 });
        const pending = [rnn.forward(c.input), stream.push(c.input), rnn.forward(c.input), stream.state()];
        device.destroy();
        const timeout = new Promise<string[]>((resolve) => setTimeout(() => resolve(['timed out']), 20_000));
        const codes = await Promise.race([Promise.all(pending.map((p) => (p as Promise<unknown>).then(() => 'resolved', codeOf))), timeout]);
        expectThat(
          codes.every((code) => code === 'DEVICE_LOST' || code === 'resolved') && codes.includes('DEVICE_LOST'),
          () => `pending calls: ${codes.join(', ')}`,
        );
        const later = await rnn.forward(c.input).then(() => 'resolved', codeOf);
        expectThat(later === 'DEVICE_LOST', () => `a call after the loss: ${later}`);
        rnn.destroy();
        return `pending: ${codes.join(', ')}; after: ${later}`;
      },
    },
    {
      name: "faults: a validation error is reported with the kernel's label, and the model still works afterwards",
      run: async () => {
        const device = await requestDevice();
        const ctx = await contextFor(device);
        try {
          // 4H = 16 gate columns: the input projection takes the narrow tile (8 rows per workgroup) with C
          // as it is on any adapter (fewer columns would be computed transposed on a software adapter).
          const c = randomCase({ mode: 'LSTM', input_size: 1, hidden_size: 4 }, 7981, { T: 3, B: 1 });
          const want = await (await createRnn({ config: c.config, weights: c.weights, backend: 'cpu' })).forward(c.input);
          const rnn = await createRnn({ config: c.config, weights: c.weights, device, strategy: 'persistent' });
          // Claim more workgroups per dimension than the device has: the plan passes our own check and
          // its input-projection dispatch (T·B / 8 workgroups) fails WebGPU's validation.
          const real = device.limits.maxComputeWorkgroupsPerDimension;
          ctx.limitOverrides = { maxComputeWorkgroupsPerDimension: real * 4 };
          const T = 8 * real + 8;
          const long = { shape: [T, 1, 1], data: new Float32Array(T) };
          const error = await rnn.forward(long).then(
            () => undefined,
            (e: unknown) => e,
          );
          ctx.limitOverrides = {};
          expectThat(error instanceof RnnError && error.code === 'GPU_VALIDATION', () => `expected GPU_VALIDATION, got ${codeOf(error)}`);
          expectThat(error.message.includes(`SequencePlan(T=${T},B=1,persistent)`), () => `the error does not name the plan: ${error.message}`);
          expectClose('after the error', (await rnn.forward(c.input)).output, want.output, GPU_RTOL);
          rnn.destroy();
          return error.message.slice(0, 160);
        } finally {
          device.destroy();
        }
      },
    },
    {
      name: 'lifetimes: 1,000 create / forward / destroy cycles keep the live-buffer count flat, and destroy frees every buffer',
      run: async () => {
        const device = await requestDevice();
        const ctx = await contextFor(device);
        try {
          const c = randomCase({ mode: 'LSTM', input_size: 2, hidden_size: 3, proj_size: 2 }, 7982, { T: 3, B: 2 });
          const counts: number[] = [];
          let peak = 0;
          for (let i = 0; i < 1000; i++) {
            const rnn = await createRnn({ config: c.config, weights: c.weights, device });
            const stream = i % 3 === 0 ? rnn.stream({ batch: 2 }) : undefined;
            await rnn.forward(c.input);
            if (stream && i % 2 === 0) await stream.push(c.input); // sometimes left open: destroy frees it
            peak = Math.max(peak, ctx.diagnostics().buffers.live);
            await rnn.destroy();
            if (i % 100 === 99) counts.push(ctx.diagnostics().buffers.live);
          }
          const d = ctx.diagnostics();
          expectThat(
            counts.every((n) => n === 0),
            () => `live buffers after destroy, every 100 cycles: ${counts.join(', ')}`,
          );
          expectThat(d.models === 0 && d.buffers.liveBytes === 0, () => `left: ${JSON.stringify(d)}`);
          return `live buffers after each destroy: 0 (peak ${peak} while a model lived); ${d.buffers.created} created in all, ${d.pipelines} pipelines`;
        } finally {
          device.destroy();
        }
      },
    },
  ];
}

/** The hardening cases (f32; the kernels they touch are the same for f16 weights). */
export function hardeningCases(): GpuCase[] {
  return [...orderingCases(), ...streamRaceCases(), ...nanCases(), ...splitCases(), ...faultCases()];
}
