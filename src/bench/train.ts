/**
 * The benchmark's training rows: for each training shape (train-shapes.ts), one workload — PyTorch's
 * default initialisation, seeded, and a random batch — and per system one training step per run:
 * forward, loss, backward and Adam's update (torch.optim.Adam's defaults), ending with the step's loss
 * on the host. Every system starts from the same parameters, and its first step's loss is checked
 * against the float64 CPU trainer's (`max_rel_err`) before anything is timed. Samples are taken in
 * rounds (run.ts's timeInterleaved), like the forward rows.
 *
 * Systems: `webgpu-rnn` (a trainer's step), `webgpu-rnn-forward` (the same model's forward and loss
 * alone, for the step-to-forward ratio), `tfjs-webgpu` (model.trainOnBatch, peers/tfjs-train.ts),
 * `pytorch-cpu` / `pytorch-cuda` (Node only, peers/pytorch.ts) and `cpu-reference` (our float64 trainer).
 */
import { contextFor } from '../gpu/device.js';
import type { BackwardStrategy } from '../gpu/ops/backward.js';
import type { GemmShape } from '../gpu/ops/gemm.js';
import { seededUniform } from '../random.js';
import type { TrainBatch } from '../train/batch.js';
import { type TrainableConfig, outputFeatures, resolveTrainableConfig } from '../train/config.js';
import { isSeq2Seq } from '../train/seq2seq-config.js';
import { modelParameterSpecs } from '../train/model.js';
import { initialParameters } from '../train/init.js';
import { type Trainer, createTrainer } from '../train/trainer.js';
import { countGpuWork } from './instrument.js';
import type { BenchRow, PreparedSystem, SystemName } from './system.js';
import { type TrainShape, trainStepGflop } from './train-shapes.js';

export interface TrainWorkload {
  readonly shape: TrainShape;
  readonly model: TrainableConfig;
  /** f32 parameters by state_dict name. */
  readonly params: Record<string, { shape: number[]; data: Float32Array }>;
  readonly batch: TrainBatch;
}

/** A prepared training system: `run` is one step, resolving with the loss before its update. */
export interface PreparedTrainer extends Omit<PreparedSystem, 'run'> {
  run(): Promise<number>;
  /** For our engine: dispatches and memory, for the note (asked after the timed runs). */
  readonly details?: () => string;
  /** For our engine: every GEMM of one step, from its plan (for the GEMM census, gemm-census.ts). */
  readonly gemms?: () => GemmShape[];
}

export interface TrainSystem {
  readonly name: SystemName;
  prepare(w: TrainWorkload, device: GPUDevice): Promise<PreparedTrainer>;
}

export function makeTrainWorkload(shape: TrainShape, seed = 1): TrainWorkload {
  const model = resolveTrainableConfig(shape.model);
  const init = initialParameters(model, { seed });
  const params = Object.fromEntries(modelParameterSpecs(model).map((s) => [s.name, { shape: [...s.shape], data: Float32Array.from(init[s.name]) }]));
  const next = seededUniform(seed + 1);
  const { T, B } = shape;
  if (isSeq2Seq(model)) {
    // Random ids, every source row full length (as the TensorFlow.js example pads its inputs).
    const S = shape.S ?? T;
    const ids = (shape: number[], below: number) => ({ shape, data: Int32Array.from({ length: shape[0] * shape[1] }, () => Math.floor(next() * below)) });
    const Vt = model.target_embedding.num_embeddings;
    const batch: TrainBatch = { source: ids([S, B], model.source_embedding.num_embeddings), target_in: ids([T, B], Vt), target: ids([T, B], Vt) };
    return { shape, model, params, batch };
  }
  const E = model.rnn.input_size;
  const O = outputFeatures(model);
  const rowShape = model.head?.on === 'h_n' ? [B] : [T, B];
  const ids = (shape: number[], below: number) => ({
    shape,
    data: Int32Array.from({ length: shape.reduce((a, b) => a * b) }, () => Math.floor(next() * below)),
  });
  const floats = (shape: number[]) => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => 2 * next() - 1) });
  const batch: TrainBatch = {
    ...(model.embedding ? { tokens: ids([T, B], model.embedding.num_embeddings) } : { input: floats([T, B, E]) }),
    target: model.loss === 'cross_entropy' ? ids(rowShape, O) : floats([...rowShape, O]),
  };
  return { shape, model, params, batch };
}

/**
 * Our engine: one trainer per prepared system; `forward` times the forward and loss alone. `strategy`:
 * the recurrent layers' backward (and with it their training forward), as `--strategy` forces it, else
 * 'auto'. ('fused' here is the backward's one dispatch per step, not the inference strategy of that name.)
 */
function webgpuRnnTrainer(forward: boolean, strategy: BackwardStrategy | 'auto'): TrainSystem {
  return {
    name: forward ? 'webgpu-rnn-forward' : 'webgpu-rnn',
    async prepare(w, device) {
      const trainer = await createTrainer({ model: w.model, weights: w.params, device, strategy });
      const run = forward ? () => trainer.evaluate(w.batch) : async () => (await trainer.trainStep(w.batch, { readLoss: true })).loss!;
      return {
        run,
        dispose: () => trainer.destroy(),
        heldGpuBytes: () => trainer.diagnostics()!.heldBytes,
        details: forward ? undefined : describe(trainer, w),
        gemms: forward ? undefined : () => trainer.diagnostics()?.plans.find((p) => p.T === w.shape.T && p.B === w.shape.B)?.gemms ?? [],
      };
    },
  };
}

/** Dispatches per step and per layer, and activation memory against the least possible, for the note. */
function describe(trainer: Trainer<TrainableConfig>, w: TrainWorkload): () => string {
  return () => {
    const plan = trainer.diagnostics()!.plans.find((p) => p.T === w.shape.T && p.B === w.shape.B);
    if (!plan) return '';
    const MiB = (b: number) => (b / 2 ** 20).toFixed(2);
    const least = plan.minimumActivationBytes;
    return (
      `${plan.dispatches.total} dispatches per step (per layer: ${plan.dispatches.perLayer.join(', ')}; T = ${w.shape.T}); ` +
      `activations ${MiB(plan.activationBytes)} MiB` +
      (least ? ` = ${(plan.activationBytes / least).toFixed(2)}× the least (${MiB(least)} MiB)` : '') +
      (plan.tablesTaken.length ? `; tables taken: ${plan.tablesTaken.join(', ')}` : '')
    );
  };
}

const cpuReferenceTrainer: TrainSystem = {
  name: 'cpu-reference',
  async prepare(w) {
    const trainer = await createTrainer({ model: w.model, weights: w.params, backend: 'cpu' });
    return {
      note: 'float64, plain TypeScript, one thread',
      run: async () => (await trainer.trainStep(w.batch, { readLoss: true })).loss!,
      dispose: () => trainer.destroy(),
    };
  },
};

async function loadTrainSystem(name: SystemName, strategy: BackwardStrategy | 'auto'): Promise<TrainSystem | undefined> {
  switch (name) {
    case 'webgpu-rnn':
      return webgpuRnnTrainer(false, strategy);
    case 'webgpu-rnn-forward':
      return webgpuRnnTrainer(true, strategy);
    case 'cpu-reference':
      return cpuReferenceTrainer;
    case 'tfjs-webgpu':
      return (await import('./peers/tfjs-train.js')).tfjsTrainer;
    case 'pytorch-cpu':
      return (await import('./peers/pytorch.js')).pytorchCpu;
    case 'pytorch-cuda':
      return (await import('./peers/pytorch.js')).pytorchCuda;
    default:
      return undefined; // forward-only systems (ONNX files; ONNX Runtime Web trains no recurrent networks)
  }
}

/** The float64 CPU trainer's loss of the first step: what every system's first step must give. */
async function referenceLoss(w: TrainWorkload): Promise<number> {
  const trainer = await createTrainer({ model: w.model, weights: w.params, backend: 'cpu' });
  try {
    return await trainer.evaluate(w.batch);
  } finally {
    await trainer.destroy();
  }
}

export interface TrainContender {
  row: BenchRow;
  prepared: PreparedSystem;
  perSample: number;
  times: number[];
  details?: () => string;
  gemms?: () => GemmShape[];
}

/**
 * Builds, validates (first step's loss) and warms up each system for one training shape. Each system's
 * row has its error set instead when it cannot run. `warmup` steps (at least one) follow validation.
 */
export async function prepareTrainContenders(
  shape: TrainShape,
  systems: readonly SystemName[],
  device: GPUDevice,
  warmup: number,
  strategy: BackwardStrategy | 'auto' = 'auto',
): Promise<{ rows: BenchRow[]; contenders: TrainContender[] }> {
  await contextFor(device);
  const w = makeTrainWorkload(shape);
  const reference = await referenceLoss(w);
  const rows: BenchRow[] = [];
  const contenders: TrainContender[] = [];
  for (const name of systems) {
    const system = await loadTrainSystem(name, strategy);
    if (!system) continue;
    const row: BenchRow = {
      shape: shape.name,
      system: name,
      median_ms: null,
      min_ms: null,
      gflop: trainStepGflop(shape),
      gflops: null,
      dispatches: null,
      gpu_bytes: null,
      max_rel_err: null,
    };
    if (name === 'webgpu-rnn-forward') row.gflop /= 3;
    rows.push(row);
    let prepared: PreparedTrainer | undefined;
    try {
      const setup = await countGpuWork(async () => {
        prepared = await system.prepare(w, device);
        return prepared.run();
      });
      const p = prepared!;
      row.max_rel_err = Math.abs(setup.result - reference) / Math.abs(reference);
      for (let i = 0; i < Math.max(1, warmup); i++) await p.run();
      const counted = await countGpuWork(() => p.run());
      // WebGPU's dispatches and buffers are counted; PyTorch's CUDA kernels are not (null: unknown).
      const onGpu = name !== 'cpu-reference' && name !== 'pytorch-cpu' && name !== 'pytorch-cuda';
      row.dispatches = onGpu ? counted.counts.dispatches : name === 'pytorch-cuda' ? null : 0;
      row.gpu_bytes = p.heldGpuBytes ? p.heldGpuBytes() : onGpu ? setup.counts.bufferBytes + counted.counts.bufferBytes : name === 'pytorch-cuda' ? null : 0;
      const notes = [p.note, p.sameEquations === false ? 'different equations: loss error not held against it' : undefined];
      if (notes.some(Boolean)) row.note = notes.filter(Boolean).join('; ');
      const run = async () => Float32Array.of(await p.run());
      contenders.push({ row, prepared: { ...p, run }, perSample: 1, times: [], details: p.details, gemms: p.gemms });
    } catch (e) {
      row.error = (e as Error).message;
      await prepared?.dispose();
    }
  }
  return { rows, contenders };
}
