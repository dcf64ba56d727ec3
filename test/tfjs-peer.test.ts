/**
 * The TensorFlow.js benchmark peer in Node (Dawn; SwiftShader without a GPU), on our device:
 *  - LSTM: tfjs's output equals the float64 reference (PyTorch's equations) within GPU_RTOL;
 *  - GRU: tfjs runs Keras's reset-before variant, so the peer says so (sameEquations false, note),
 *    and its output is checked against a float64 implementation of that variant written here from
 *    the Keras equations on the PyTorch weights: the weight conversion is proven all the same.
 * Also: tensors do not pile up across runs, and dispose gives them all back.
 */
import { describe, expect, it } from 'vitest';
import { tfjsWebGpu } from '../src/bench/peers/tfjs.js';
import type { Workload } from '../src/bench/system.js';
import type { RnnConfigInput } from '../src/config.js';
import { getDefaultDevice } from '../src/gpu/device.js';
import type { Weights } from '../src/params.js';
import { createRnn } from '../src/rnn.js';
import type { Tensor } from '../src/tensor.js';
import { GPU_RTOL, expectClose, relativeError } from './support/compare.js';
import { randomCase } from './support/random.js';

const device = await getDefaultDevice();
const tf = await import('@tensorflow/tfjs');

/** Odd sizes: nothing lines up with a workgroup or a vector width. */
const I = 3;
const H = 5;
const B = 2;
const T = 4;

function workload(config: RnnConfigInput & { mode: 'LSTM' | 'GRU' }, seed: number): Workload {
  const c = randomCase(config, seed, { T, B });
  return { shape: { name: 'test', about: 'test', config, B, T }, config: c.config, weights: c.weights, input: c.input };
}

/** Prepares the peer on our device inside a validation scope, runs it once, disposes it. */
async function runPeer(w: Workload): Promise<{ output: Tensor; note?: string; sameEquations?: boolean }> {
  device.pushErrorScope('validation');
  const peer = await tfjsWebGpu.prepare(w, device);
  try {
    const out = await peer.run();
    return { output: { shape: [T, B, w.shape.config.bidirectional ? 2 * H : H], data: out }, note: peer.note, sameEquations: peer.sameEquations };
  } finally {
    await peer.dispose();
    const error = await device.popErrorScope();
    // biome-ignore lint/correctness/noUnsafeFinally: a GPU validation error explains whatever the body threw, so it is the one reported
    if (error) throw new Error(`WebGPU validation error: ${error.message}`);
  }
}

async function reference(w: Workload): Promise<Tensor> {
  const rnn = await createRnn({ config: w.config, weights: w.weights, backend: 'cpu' });
  return (await rnn.forward(w.input)).output;
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/**
 * Keras GRU, reset_after=false, float64, on PyTorch-named weights (rows r, z, n of weight_ih /
 * weight_hh) with b_hn folded into the candidate's bias, as the peer documents:
 *   r = σ(W_ir x + b_ir + W_hr h + b_hr),  z = σ(W_iz x + b_iz + W_hz h + b_hz),
 *   n = tanh(W_in x + b_in + b_hn + W_hn (r ⊙ h)),  h' = (1 − z) ⊙ n + z ⊙ h.
 * Input and output (T, B, ·) time-major; the backward direction runs t = T−1 … 0; layers stack.
 */
function kerasGru(w: Workload): Float64Array {
  const { num_layers, bidirectional } = w.config;
  const D = bidirectional ? 2 : 1;
  let x = Float64Array.from(w.input.data); // (T, B, In)
  let In = w.config.input_size;
  for (let l = 0; l < num_layers; l++) {
    const y = new Float64Array(T * B * D * H);
    for (let d = 0; d < D; d++) {
      const p = (kind: string) => w.weights[`${kind}_l${l}${d === 1 ? '_reverse' : ''}`].data;
      const [Wih, Whh, bih, bhh] = [p('weight_ih'), p('weight_hh'), p('bias_ih'), p('bias_hh')];
      const h = new Float64Array(B * H);
      for (let s = 0; s < T; s++) {
        const t = d === 0 ? s : T - 1 - s;
        const next = new Float64Array(B * H);
        for (let b = 0; b < B; b++) {
          const xt = x.subarray((t * B + b) * In, (t * B + b + 1) * In);
          const hb = h.subarray(b * H, (b + 1) * H);
          const gate = (g: number, j: number, hv: ArrayLike<number>) => {
            let v = bih[g * H + j] + bhh[g * H + j];
            for (let k = 0; k < In; k++) v += Wih[(g * H + j) * In + k] * xt[k];
            for (let k = 0; k < H; k++) v += Whh[(g * H + j) * H + k] * hv[k];
            return v;
          };
          const r = Array.from({ length: H }, (_, j) => sigmoid(gate(0, j, hb)));
          const z = Array.from({ length: H }, (_, j) => sigmoid(gate(1, j, hb)));
          const rh = hb.map((v, k) => r[k] * v);
          for (let j = 0; j < H; j++) {
            const n = Math.tanh(gate(2, j, rh));
            next[b * H + j] = (1 - z[j]) * n + z[j] * hb[j];
          }
        }
        h.set(next);
        for (let b = 0; b < B; b++) y.set(h.subarray(b * H, (b + 1) * H), (t * B + b) * D * H + d * H);
      }
    }
    x = y;
    In = D * H;
  }
  return x;
}

const LAYOUTS = [
  { num_layers: 1, bidirectional: false },
  { num_layers: 1, bidirectional: true },
  { num_layers: 2, bidirectional: false },
  { num_layers: 2, bidirectional: true },
];
const label = (l: (typeof LAYOUTS)[number]) => `${l.num_layers} layer(s), ${l.bidirectional ? 'bidirectional' : 'unidirectional'}`;

describe('tfjs-webgpu peer on our device (Node, Dawn)', () => {
  it.each(LAYOUTS.map((l, i) => [label(l), l, i] as const))('LSTM %s equals the float64 reference', async (_name, layout, i) => {
    const w = workload({ mode: 'LSTM', input_size: I, hidden_size: H, ...layout }, 100 + i);
    const got = await runPeer(w);
    expect(got.sameEquations).toBe(true);
    expect(got.note).toMatch(/GPUDevice/);
    expectClose('tfjs LSTM output', got.output, await reference(w), GPU_RTOL);
  });

  it.each(LAYOUTS.map((l, i) => [label(l), l, i] as const))('GRU %s: reset-before variant, declared, and converted exactly', async (_name, layout, i) => {
    const w = workload({ mode: 'GRU', input_size: I, hidden_size: H, ...layout }, 200 + i);
    const got = await runPeer(w);
    expect(got.sameEquations).toBe(false);
    expect(got.note).toMatch(/reset_after=false/);
    expectClose('tfjs GRU output vs Keras reset-before (float64)', got.output, { shape: got.output.shape, data: kerasGru(w) }, GPU_RTOL);
    // And it really is a different function from PyTorch's, so the note is warranted.
    expect(relativeError(got.output.data, (await reference(w)).data)).toBeGreaterThan(100 * GPU_RTOL);
  });

  it('keeps tensor count flat across runs and frees everything on dispose', async () => {
    const w = workload({ mode: 'LSTM', input_size: I, hidden_size: H, bidirectional: true }, 300);
    // The engine-wide count (what tf.memory().numTensors reports), read without initializing a backend.
    const numTensors = () => tf.engine().state.numTensors;
    const before = numTensors();
    const peer = await tfjsWebGpu.prepare(w, device);
    await peer.run();
    const afterOne = numTensors();
    for (let k = 0; k < 3; k++) await peer.run();
    expect(numTensors()).toBe(afterOne);
    await peer.dispose();
    expect(numTensors()).toBe(before);
  });

  it('two prepared systems can run in turn (each switches tfjs back to its own backend)', async () => {
    const a = workload({ mode: 'LSTM', input_size: I, hidden_size: H }, 500);
    const b = workload({ mode: 'LSTM', input_size: I, hidden_size: H, num_layers: 2 }, 501);
    const pa = await tfjsWebGpu.prepare(a, device);
    const pb = await tfjsWebGpu.prepare(b, device);
    try {
      const shape = [T, B, H];
      expectClose('first system, run after the second was prepared', { shape, data: await pa.run() }, await reference(a), GPU_RTOL);
      expectClose('second system', { shape, data: await pb.run() }, await reference(b), GPU_RTOL);
    } finally {
      await pa.dispose();
      await pb.dispose();
    }
  });

  it('leaves no navigator shim behind and refuses what tfjs layers cannot express', async () => {
    const hadGpu = (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu !== undefined;
    const w = workload({ mode: 'LSTM', input_size: I, hidden_size: H }, 400);
    await (await tfjsWebGpu.prepare(w, device)).dispose();
    expect((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu !== undefined).toBe(hadGpu);

    const c = randomCase({ mode: 'LSTM', input_size: I, hidden_size: H, proj_size: 2 }, 401, { T, B });
    const projected: Workload = {
      shape: { name: 'p', about: 'p', config: { mode: 'LSTM', input_size: I, hidden_size: H, proj_size: 2 }, B, T },
      config: c.config,
      weights: c.weights as Weights,
      input: c.input,
    };
    await expect(tfjsWebGpu.prepare(projected, device)).rejects.toThrow(/projection/);
  });
});
