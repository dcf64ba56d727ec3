/**
 * TensorFlow.js's WebGPU backend training the encoder–decoder as its date-conversion-attention example
 * builds it, with the layers API: embeddings, an LSTM encoder returning its sequence, its last step
 * (a small custom layer, as the example's GetLastTimestepLayer) as the decoder LSTM's initial h and c,
 * dot attention assembled from tf.layers.dot, a softmax and a second dot, concatenate([context,
 * decoder]), a time-distributed Dense tanh (the combine layer) and a time-distributed Dense softmax (the
 * head); sparse categorical cross entropy, Adam with PyTorch's defaults, timed with model.trainOnBatch.
 * The equations are ours ("dot" after the decoder; LSTM's gates as PyTorch's, biases summed) but for
 * the bridge: the example starts the decoder's c from the encoder's last h, where our "copy" takes
 * c_n — tfjs cannot train a model that feeds an LSTM's returned state into another (its training
 * executor rejects the initial state then), so its loss is reported, not held against it.
 */
import type * as TfNamespace from '@tensorflow/tfjs';
import type { Weights } from '../../params.js';
import type { Seq2SeqConfig } from '../../train/seq2seq-config.js';
import type { PreparedTrainer, TrainWorkload } from '../train.js';
import { batchMajor, kerasWeights, tfjsOnDevice, trainingRuns } from './tfjs.js';

type Sym = TfNamespace.SymbolicTensor;

/** The last step of a sequence (B, T, H) → (B, H): the example's GetLastTimestepLayer. */
function lastStepLayer(tf: typeof TfNamespace) {
  return class LastStep extends tf.layers.Layer {
    static className = 'LastStep';
    override computeOutputShape(shape: TfNamespace.Shape | TfNamespace.Shape[]): TfNamespace.Shape {
      const s = (Array.isArray(shape[0]) ? shape[0] : shape) as TfNamespace.Shape;
      return [s[0], s[2]];
    }
    override call(inputs: TfNamespace.Tensor | TfNamespace.Tensor[]): TfNamespace.Tensor {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      return tf.squeeze(tf.slice(x, [0, x.shape[1]! - 1, 0], [-1, 1, -1]), [1]);
    }
  };
}

/** nn.Linear's weight (O, F) as a Keras kernel (F, O). */
function kernelOf(weight: { shape: number[]; data: Float32Array }): { shape: number[]; data: Float32Array } {
  const [O, F] = weight.shape;
  const out = new Float32Array(F * O);
  for (let o = 0; o < O; o++) for (let f = 0; f < F; f++) out[f * O + o] = weight.data[o * F + f];
  return { shape: [F, O], data: out };
}

/** The module's own parameters without their prefix. */
function own(params: TrainWorkload['params'], prefix: string): Weights {
  return Object.fromEntries(
    Object.entries(params)
      .filter(([k]) => k.startsWith(`${prefix}.`))
      .map(([k, v]) => [k.slice(prefix.length + 1), v]),
  ) as Weights;
}

export async function prepareTfjsSeq2Seq(w: TrainWorkload, device: GPUDevice): Promise<PreparedTrainer> {
  const m = w.model as Seq2SeqConfig;
  const { shape, params, batch } = w;
  const { B, T } = shape;
  const S = shape.S ?? T;
  if (m.attention.score !== 'dot' || m.attention.placement !== 'after' || m.bridge !== 'copy' || m.encoder.mode !== 'LSTM' || m.decoder.mode !== 'LSTM')
    throw new Error('tfjs-webgpu: the encoder–decoder peer builds the date-conversion model (LSTM, "dot" after the decoder, the "copy" bridge)');
  if (m.encoder.num_layers !== 1 || m.decoder.num_layers !== 1 || m.encoder.bidirectional)
    throw new Error('tfjs-webgpu: one-layer, one-direction encoder and decoder only');
  const { tf, activate, release } = await tfjsOnDevice(device);
  const held: TfNamespace.Tensor[] = [];
  let model: TfNamespace.LayersModel | undefined;
  try {
    await activate();
    const zeros = { kernelInitializer: 'zeros', recurrentInitializer: 'zeros', biasInitializer: 'zeros' } as const;
    const lstm = (units: number) => tf.layers.lstm({ units, returnSequences: true, recurrentActivation: 'sigmoid', ...zeros });
    const sourceIn = tf.input({ shape: [S], dtype: 'int32' });
    const targetIn = tf.input({ shape: [T], dtype: 'int32' });
    const sourceEmbedding = tf.layers.embedding({
      inputDim: m.source_embedding.num_embeddings,
      outputDim: m.source_embedding.embedding_dim,
      embeddingsInitializer: 'zeros',
    });
    const targetEmbedding = tf.layers.embedding({
      inputDim: m.target_embedding.num_embeddings,
      outputDim: m.target_embedding.embedding_dim,
      embeddingsInitializer: 'zeros',
    });
    const encoder = lstm(m.encoder.hidden_size);
    const decoder = lstm(m.decoder.hidden_size);
    const C = m.attention.combine_size!;
    const V = m.target_embedding.num_embeddings;
    const combine = tf.layers.dense({ units: C, activation: 'tanh', ...zeros });
    const head = tf.layers.dense({ units: V, activation: 'softmax', ...zeros });
    const keys = encoder.apply(sourceEmbedding.apply(sourceIn)) as Sym;
    const last = new (lastStepLayer(tf))().apply(keys) as Sym;
    const queries = decoder.apply(targetEmbedding.apply(targetIn), { initialState: [last, last] }) as Sym;
    const scores = tf.layers.dot({ axes: [2, 2] }).apply([queries, keys]) as Sym; // (B, T, S)
    const alpha = tf.layers.activation({ activation: 'softmax' }).apply(scores) as Sym;
    const context = tf.layers.dot({ axes: [2, 1] }).apply([alpha, keys]) as Sym; // (B, T, H_e)
    const joined = tf.layers.concatenate().apply([context, queries]) as Sym;
    const hidden = tf.layers.timeDistributed({ layer: combine }).apply(joined) as Sym;
    const output = tf.layers.timeDistributed({ layer: head }).apply(hidden) as Sym;
    model = tf.model({ inputs: [sourceIn, targetIn], outputs: output });

    const set = (layer: TfNamespace.layers.Layer, ws: { shape: number[]; data: Float32Array }[]) => {
      const tensors = ws.map((x) => tf.tensor(x.data, x.shape, 'float32'));
      layer.setWeights(tensors);
      tf.dispose(tensors);
    };
    set(sourceEmbedding, [params['source_embedding.weight']]);
    set(targetEmbedding, [params['target_embedding.weight']]);
    set(encoder, kerasWeights(m.encoder, own(params, 'encoder')));
    set(decoder, kerasWeights(m.decoder, own(params, 'decoder')));
    set(combine, [kernelOf(params['combine.weight']), params['combine.bias']]);
    set(head, [kernelOf(params['head.weight']), params['head.bias']]);
    model.compile({ optimizer: tf.train.adam(1e-3, 0.9, 0.999, 1e-8), loss: 'sparseCategoricalCrossentropy' });

    const x = [
      tf.tensor2d(batchMajor(batch.source!.data as Int32Array, S, B, 1), [B, S], 'int32'),
      tf.tensor2d(batchMajor(batch.target_in!.data as Int32Array, T, B, 1), [B, T], 'int32'),
    ];
    const y = tf.tensor3d(batchMajor(batch.target.data as Int32Array, T, B, 1), [B, T, 1], 'float32');
    held.push(...x, y);
    const built = model;
    const step = async (): Promise<number> => {
      await activate();
      const loss = await built.trainOnBatch(x, y);
      return Array.isArray(loss) ? loss[0] : loss;
    };
    const { programs, run } = await trainingRuns(tf, step);
    return {
      note: `the decoder's c starts from the encoder's last h, as the example builds it; tfjs ${tf.version_core} WebGPU backend on the benchmark's GPUDevice, the layers API as its date-conversion-attention example, model.trainOnBatch with Adam${programs === undefined ? '' : `, ${programs} GPU programs per step`}`,
      sameEquations: false,
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
    throw new Error(`tfjs-webgpu: could not prepare training of the encoder–decoder: ${String(cause)}`, { cause });
  }
}
