/**
 * TensorFlow.js 4.22 on its WebGPU backend, as a benchmark peer: `tf.layers.lstm` / `tf.layers.gru`
 * (stacked for num_layers, wrapped in `tf.layers.bidirectional({ mergeMode: 'concat' })` when
 * bidirectional) with weights converted from the PyTorch state_dict, run with `model.predict`.
 *
 * Same device: the backend is a `WebGPUBackend` constructed on the benchmark's GPUDevice, registered
 * under its own name with a copy of the 'webgpu' kernels (`copyRegisteredKernels`, tfjs's way to
 * register a custom backend), so tfjs never requests an adapter of its own. Each prepared system owns
 * one such backend and removes it (freeing its buffer pool) on dispose, which leaves tfjs with no
 * active backend. In Node, see navigator-gpu.ts for the one global tfjs insists on.
 *
 * Timing contract: the input is transposed to tfjs's batch-major (B, T, I) and uploaded once in
 * `prepare`, which also runs one untimed forward (tfjs compiles its pipelines on first use) and counts
 * the GPU dispatches it records, for the note. `run` = `model.predict` + `await y.data()` + the host
 * transpose back to time-major (T, B, D·H); every tensor it makes is disposed.
 *
 * Equations: tfjs defaults `recurrentActivation` to hard sigmoid; we ask for 'sigmoid', as PyTorch.
 *  - LSTM: Keras kernel (I, 4H) / recurrent_kernel (H, 4H), gates i,f,c,o = PyTorch i,f,g,o, so the
 *    kernels are weight_ih / weight_hh transposed and the one bias is bias_ih + bias_hh: exact.
 *  - GRU: tfjs implements only Keras `reset_after=false` (GRUCell throws on resetAfter), gates z,r,h:
 *      n = tanh(W_in x + b_n + U_n (r ⊙ h))   vs PyTorch   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)).
 *    Gates are reordered (PyTorch r,z,n → Keras z,r,h) and b_hn, which has no place inside the reset,
 *    is folded into the candidate's bias (b_n = b_in + b_hn). Different equations: `sameEquations`
 *    is false and the note says so.
 *
 * The libraries are imported inside `prepare`, so importing this module never needs them.
 */
import type * as TfNamespace from '@tensorflow/tfjs';
import { type RnnConfig, gateCount, numDirections } from '../../config.js';
import { hostGpu } from '../../gpu/device.js';
import { layerInputSize, paramName } from '../../params.js';
import type { TensorData } from '../../tensor.js';
import type { BenchSystem, PreparedSystem, Workload } from '../system.js';
import { withNavigatorGpu } from './navigator-gpu.js';

type Tf = typeof TfNamespace;

/** Prefix of the backend names we register; tfjs splits kernel keys on '_', so none in the name. */
const BACKEND_PREFIX = 'webgpu-rnn-peer';
/** tfjs backend priority for ours: below every stock backend, so auto-selection never picks it. */
const BACKEND_PRIORITY = -1;
let backendsMade = 0;

/** Keras gate slot → PyTorch gate index. LSTM i,f,c,o = i,f,g,o; GRU z,r,h ← r,z,n. */
const LSTM_GATES = [0, 1, 2, 3] as const;
const GRU_GATES = [1, 0, 2] as const;

export const GRU_VARIANT_NOTE =
  'tfjs GRU is Keras reset_after=false (reset applied to h before the recurrent matmul, one bias per gate): ' +
  "n = tanh(W_in·x + b_in + b_hn + U_hn·(r⊙h)), not PyTorch's n = tanh(W_in·x + b_in + r⊙(W_hn·h + b_hn)); " +
  'gates reordered r,z,n → z,r,h and b_hn folded into the candidate bias';

/** The WebGPUBackend method every GPU program goes through (private in tfjs; used only to count). */
interface CountableBackend {
  recordAndSubmit?: (...args: unknown[]) => unknown;
}

/**
 * TensorFlow.js's WebGPU backend on the benchmark's device. LSTM and GRU (no proj_size); GRU runs
 * Keras's reset-before variant (`sameEquations: false`).
 */
export const tfjsWebGpu: BenchSystem = {
  name: 'tfjs-webgpu',
  async prepare(workload: Workload, device: GPUDevice): Promise<PreparedSystem> {
    const { config, shape } = workload;
    checkSupported(config);
    const { tf, activate, release } = await tfjsOnDevice(device);
    let model: TfNamespace.Sequential | undefined;
    let x: TfNamespace.Tensor | undefined;
    try {
      await activate();
      const { B, T } = shape;
      const F = numDirections(config) * config.hidden_size;
      model = buildModel(tf, config, T);
      setWeights(tf, model, workload);
      x = tf.tensor3d(batchMajor(workload.input.data, T, B, config.input_size), [B, T, config.input_size], 'float32');
      const input = x;
      const built = model;
      const forward = async (): Promise<Float32Array> => {
        await activate();
        const y = built.predict(input, { batchSize: B }) as TfNamespace.Tensor;
        try {
          return timeMajor((await y.data()) as Float32Array, B, T, F); // (B, T, F) → (T, B, F)
        } finally {
          y.dispose();
        }
      };
      const dispatches = await countDispatches(tf, forward);
      const variant = config.mode === 'GRU' ? `${GRU_VARIANT_NOTE}; ` : '';
      const note =
        `${variant}tfjs ${tf.version_core} WebGPU backend on the benchmark's GPUDevice, ` +
        `model.predict${dispatches === undefined ? '' : `, ${dispatches} GPU dispatches per forward`}`;
      return {
        run: forward,
        note,
        sameEquations: config.mode !== 'GRU',
        dispose() {
          built.dispose();
          input.dispose();
          release();
        },
      };
    } catch (cause) {
      model?.dispose();
      x?.dispose();
      release();
      throw new Error(`tfjs-webgpu: could not prepare ${config.mode} on the given GPUDevice: ${String(cause)}`, { cause });
    }
  },
};

/**
 * A tfjs WebGPU backend of our own on `device` (see the module comment): `activate` makes it tfjs's
 * active backend (again, when another system's took over — cheap), `release` removes it.
 */
export async function tfjsOnDevice(device: GPUDevice): Promise<{ tf: Tf; activate: () => Promise<void>; release: () => void }> {
  const tf: Tf = await import('@tensorflow/tfjs');
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  // Installs Dawn's GPUBufferUsage / GPUMapMode globals in Node (tfjs reads them); navigator.gpu in browsers.
  const gpu = await hostGpu();
  if (!gpu) throw new Error('tfjs-webgpu: this host has no WebGPU (no navigator.gpu and not Node)');
  if (tf.getKernelsForBackend('webgpu').length === 0) {
    throw new Error('tfjs-webgpu: @tensorflow/tfjs-backend-webgpu registered no kernels (a second copy of tfjs-core?)');
  }
  const backendName = `${BACKEND_PREFIX}-${++backendsMade}`;
  tf.copyRegisteredKernels('webgpu', backendName);
  tf.registerBackend(backendName, () => withNavigatorGpu(gpu, () => new WebGPUBackend(device, device.adapterInfo)), BACKEND_PRIORITY);
  const release = () => {
    if (tf.findBackendFactory(backendName)) tf.removeBackend(backendName);
    for (const k of tf.getKernelsForBackend(backendName)) tf.unregisterKernel(k.kernelName, backendName);
  };
  const activate = async () => {
    if (tf.getBackend() === backendName) return;
    if (!(await tf.setBackend(backendName))) throw new Error(`tfjs-webgpu: could not make ${backendName} tfjs's active backend`);
    await tf.ready();
  };
  return { tf, activate, release };
}

function checkSupported(config: RnnConfig): void {
  if (config.mode !== 'LSTM' && config.mode !== 'GRU') {
    throw new Error(`tfjs-webgpu: only LSTM and GRU are benchmarked (got ${config.mode})`);
  }
  if (config.proj_size > 0) throw new Error('tfjs-webgpu: tf.layers.lstm has no projection (proj_size > 0)');
}

/** Sequential stack of num_layers recurrent layers, each (B, T, ·) → (B, T, D·H). */
function buildModel(tf: Tf, config: RnnConfig, T: number): TfNamespace.Sequential {
  const model = tf.sequential();
  for (let layer = 0; layer < config.num_layers; layer++) {
    const inputShape = [T, layerInputSize(config, layer)];
    const cellArgs = {
      units: config.hidden_size,
      returnSequences: true,
      activation: 'tanh' as const,
      recurrentActivation: 'sigmoid' as const,
      useBias: config.bias,
      // Overwritten by setWeights; 'zeros' skips tfjs's slow orthogonal init of large matrices.
      kernelInitializer: 'zeros' as const,
      recurrentInitializer: 'zeros' as const,
      biasInitializer: 'zeros' as const,
    };
    const rnn = (extra: { inputShape?: number[] }) =>
      config.mode === 'LSTM' ? tf.layers.lstm({ ...cellArgs, ...extra }) : tf.layers.gru({ ...cellArgs, ...extra });
    model.add(config.bidirectional ? tf.layers.bidirectional({ layer: rnn({}), mergeMode: 'concat', inputShape }) : rnn({ inputShape }));
  }
  return model;
}

/**
 * Keras weights of every layer, in getWeights() order: per layer, per direction (forward, then
 * backward), kernel (I_l, G·H), recurrent_kernel (H, G·H), bias (G·H) when config.bias.
 */
export function kerasWeights(config: RnnConfig, weights: Workload['weights']): { shape: number[]; data: Float32Array }[] {
  const G = gateCount(config.mode);
  const H = config.hidden_size;
  const gates = config.mode === 'LSTM' ? LSTM_GATES : GRU_GATES;
  const out: { shape: number[]; data: Float32Array }[] = [];
  for (let layer = 0; layer < config.num_layers; layer++) {
    const I = layerInputSize(config, layer);
    for (let dir = 0; dir < numDirections(config); dir++) {
      const get = (kind: 'weight_ih' | 'weight_hh' | 'bias_ih' | 'bias_hh') => weights[paramName(kind, layer, dir)].data;
      out.push({ shape: [I, G * H], data: transposeGates(get('weight_ih'), gates, H, I) });
      out.push({ shape: [H, G * H], data: transposeGates(get('weight_hh'), gates, H, H) });
      if (config.bias) {
        const bih = get('bias_ih');
        const bhh = get('bias_hh');
        const bias = new Float32Array(G * H);
        gates.forEach((g, slot) => {
          for (let j = 0; j < H; j++) bias[slot * H + j] = bih[g * H + j] + bhh[g * H + j];
        });
        // GRU: the candidate slot gets b_in + b_hn, folding b_hn in (see the module comment).
        out.push({ shape: [G * H], data: bias });
      }
    }
  }
  return out;
}

/** PyTorch (G·H, K) with gates in PyTorch order → Keras (K, G·H) with gate slot s = PyTorch gate gates[s]. */
function transposeGates(w: TensorData, gates: readonly number[], H: number, K: number): Float32Array {
  const GH = gates.length * H;
  const out = new Float32Array(K * GH);
  gates.forEach((g, slot) => {
    for (let j = 0; j < H; j++) {
      const row = (g * H + j) * K;
      for (let k = 0; k < K; k++) out[k * GH + slot * H + j] = w[row + k];
    }
  });
  return out;
}

function setWeights(tf: Tf, model: TfNamespace.Sequential, workload: Workload): void {
  const tensors = kerasWeights(workload.config, workload.weights).map((w) => tf.tensor(w.data, w.shape, 'float32'));
  try {
    model.setWeights(tensors);
  } finally {
    tf.dispose(tensors); // the variables took their own reference
  }
}

/** (T, B, I) time-major → (B, T, I) batch-major, f32. */
export function batchMajor(data: ArrayLike<number>, T: number, B: number, I: number): Float32Array {
  const out = new Float32Array(T * B * I);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < I; i++) out[(b * T + t) * I + i] = data[(t * B + b) * I + i];
    }
  }
  return out;
}

/** (B, T, F) batch-major → (T, B, F) time-major. */
function timeMajor(data: Float32Array, B: number, T: number, F: number): Float32Array {
  const out = new Float32Array(B * T * F);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) out.set(data.subarray((b * T + t) * F, (b * T + t + 1) * F), (t * B + b) * F);
  }
  return out;
}

/**
 * Runs one forward (the warm-up: pipelines compile here) counting the GPU programs tfjs records, by
 * wrapping the backend instance's recordAndSubmit for that forward only. Undefined when the backend
 * has no such method (another tfjs version): the count is information, not a requirement.
 */
export async function countDispatches(tf: Tf, forward: () => Promise<Float32Array>): Promise<number | undefined> {
  const backend = tf.backend() as unknown as CountableBackend;
  const original = backend.recordAndSubmit;
  const own = Object.hasOwn(backend, 'recordAndSubmit');
  if (typeof original !== 'function') {
    await forward();
    return undefined;
  }
  let count = 0;
  backend.recordAndSubmit = (...args: unknown[]) => {
    count++;
    return original.apply(backend, args);
  };
  try {
    await forward();
  } finally {
    if (own) backend.recordAndSubmit = original;
    else delete backend.recordAndSubmit; // back to the prototype's method
  }
  return count;
}

/**
 * A tfjs training step as a benchmark system's `run`: the first step runs here, counting tfjs's GPU
 * programs (countDispatches; its pipelines compile in it), and the first `run()` returns that step's
 * loss, the one the benchmark validates; every later `run()` takes a step.
 */
export async function trainingRuns(tf: Tf, step: () => Promise<number>): Promise<{ programs: number | undefined; run: () => Promise<number> }> {
  let first: number | undefined;
  const programs = await countDispatches(tf, async () => Float32Array.of((first = await step())));
  let firstTaken = false;
  const run = async () => {
    if (firstTaken) return step();
    firstTaken = true;
    return first!;
  };
  return { programs, run };
}
