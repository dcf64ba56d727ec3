/**
 * TensorFlow.js's WebGPU backend as a training-benchmark peer: the equivalent Keras model — an
 * embedding (tf.layers.embedding), the stacked LSTM / GRU layers, a dense head on every step (Dense on
 * a sequence applies per step) or on the last state (the last layer without returnSequences) — built
 * on the benchmark's GPUDevice (tfjs.ts's tfjsOnDevice), starting from the workload's parameters,
 * compiled with Adam (PyTorch's defaults: lr 1e-3, β 0.9 / 0.999, ε 1e-8) and timed with
 * `model.trainOnBatch` (which resolves with the loss on the host).
 *
 * Losses: Keras's sparseCategoricalCrossentropy on a softmax head (the class-id form of PyTorch's
 * cross_entropy on logits; targets shaped (…, 1)) and meanSquaredError. Equations: LSTM is PyTorch's
 * exactly (recurrentActivation 'sigmoid', biases summed); tfjs's GRU is Keras reset_after=false
 * (tfjs.ts, GRU_VARIANT_NOTE), so its loss is reported but not held against it. Unidirectional models
 * without proj_size only (none of the training shapes needs more).
 */
import type * as TfNamespace from '@tensorflow/tfjs';
import type { Weights } from '../../params.js';
import type { ModelConfig } from '../../train/config.js';
import { isSeq2Seq } from '../../train/seq2seq-config.js';
import type { TrainSystem, TrainWorkload } from '../train.js';
import { GRU_VARIANT_NOTE, batchMajor, kerasWeights, tfjsOnDevice, trainingRuns } from './tfjs.js';

type Tf = typeof TfNamespace;

/** A workload of the embedding → rnn → head kind. */
type SequenceWorkload = TrainWorkload & { model: ModelConfig };

function buildModel(tf: Tf, w: SequenceWorkload): TfNamespace.Sequential {
  const { model: m, shape } = w;
  const rnn = m.rnn;
  const model = tf.sequential();
  if (m.embedding)
    model.add(
      tf.layers.embedding({ inputDim: m.embedding.num_embeddings, outputDim: m.embedding.embedding_dim, inputLength: shape.T, embeddingsInitializer: 'zeros' }),
    );
  for (let l = 0; l < rnn.num_layers; l++) {
    const args = {
      units: rnn.hidden_size,
      returnSequences: l < rnn.num_layers - 1 || m.head?.on !== 'h_n',
      activation: 'tanh' as const,
      recurrentActivation: 'sigmoid' as const,
      useBias: rnn.bias,
      kernelInitializer: 'zeros' as const,
      recurrentInitializer: 'zeros' as const,
      biasInitializer: 'zeros' as const,
      ...(l === 0 && !m.embedding ? { inputShape: [shape.T, rnn.input_size] } : {}),
    };
    model.add(rnn.mode === 'LSTM' ? tf.layers.lstm(args) : tf.layers.gru(args));
  }
  if (m.head)
    model.add(
      tf.layers.dense({
        units: m.head.out_features,
        useBias: m.head.bias,
        activation: m.loss === 'cross_entropy' ? 'softmax' : 'linear',
        kernelInitializer: 'zeros',
      }),
    );
  return model;
}

/** The workload's parameters in Keras's getWeights() order. */
function kerasParameters(w: SequenceWorkload): { shape: number[]; data: Float32Array }[] {
  const { model: m, params } = w;
  const out: { shape: number[]; data: Float32Array }[] = [];
  if (m.embedding) out.push({ shape: params['embedding.weight'].shape, data: params['embedding.weight'].data });
  const rnnWeights: Weights = Object.fromEntries(
    Object.entries(params)
      .filter(([k]) => k.startsWith('rnn.'))
      .map(([k, v]) => [k.slice(4), v]),
  );
  out.push(...kerasWeights(m.rnn, rnnWeights));
  if (m.head) {
    const [O, F] = params['head.weight'].shape;
    const weight = params['head.weight'].data;
    const kernel = new Float32Array(F * O);
    for (let o = 0; o < O; o++) for (let f = 0; f < F; f++) kernel[f * O + o] = weight[o * F + f];
    out.push({ shape: [F, O], data: kernel });
    if (m.head.bias) out.push({ shape: [O], data: params['head.bias'].data });
  }
  return out;
}

export const tfjsTrainer: TrainSystem = {
  name: 'tfjs-webgpu',
  async prepare(workload, device) {
    if (isSeq2Seq(workload.model)) return (await import('./tfjs-seq2seq.js')).prepareTfjsSeq2Seq(workload, device);
    const w = workload as SequenceWorkload;
    const { model: m, shape, batch } = w;
    if (m.rnn.mode !== 'LSTM' && m.rnn.mode !== 'GRU') throw new Error(`tfjs-webgpu: only LSTM and GRU are benchmarked (got ${m.rnn.mode})`);
    if (m.rnn.bidirectional || m.rnn.proj_size) throw new Error('tfjs-webgpu: the training peer builds unidirectional models without proj_size');
    const { tf, activate, release } = await tfjsOnDevice(device);
    const held: TfNamespace.Tensor[] = [];
    let model: TfNamespace.Sequential | undefined;
    try {
      await activate();
      const { T, B } = shape;
      model = buildModel(tf, w);
      const weights = kerasParameters(w).map((p) => tf.tensor(p.data, p.shape, 'float32'));
      model.setWeights(weights);
      tf.dispose(weights);
      model.compile({
        optimizer: tf.train.adam(1e-3, 0.9, 0.999, 1e-8),
        loss: m.loss === 'cross_entropy' ? 'sparseCategoricalCrossentropy' : 'meanSquaredError',
      });
      const x = batch.tokens
        ? tf.tensor2d(batchMajor(batch.tokens.data as Int32Array, T, B, 1), [B, T], 'int32')
        : tf.tensor3d(batchMajor(batch.input!.data, T, B, m.rnn.input_size), [B, T, m.rnn.input_size], 'float32');
      const O = m.head!.out_features;
      const perStep = m.head?.on !== 'h_n';
      const targetWidth = m.loss === 'cross_entropy' ? 1 : O;
      const targetData = batch.target.data as Int32Array | Float32Array; // the workload's (makeTrainWorkload)
      const target = perStep ? batchMajor(targetData, T, B, targetWidth) : Float32Array.from(targetData);
      const y = tf.tensor(target, perStep ? [B, T, targetWidth] : [B, targetWidth], 'float32');
      held.push(x, y);
      const built = model;
      const step = async (): Promise<number> => {
        await activate();
        const loss = await built.trainOnBatch(x, y);
        return Array.isArray(loss) ? loss[0] : loss;
      };
      const { programs, run } = await trainingRuns(tf, step);
      const variant = m.rnn.mode === 'GRU' ? `${GRU_VARIANT_NOTE}; ` : '';
      return {
        note: `${variant}tfjs ${tf.version_core} WebGPU backend on the benchmark's GPUDevice, model.trainOnBatch with Adam${programs === undefined ? '' : `, ${programs} GPU programs per step`}`,
        sameEquations: m.rnn.mode !== 'GRU',
        // The first step already ran (counting tfjs's programs): its loss is the one validated.
        run,
        dispose() {
          built.dispose();
          tf.dispose(held);
          release();
        },
      };
    } catch (cause) {
      model?.dispose();
      tf.dispose(held);
      release();
      throw new Error(`tfjs-webgpu: could not prepare training of ${m.rnn.mode}: ${String(cause)}`, { cause });
    }
  },
};
