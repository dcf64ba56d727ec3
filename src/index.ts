/// <reference types="@webgpu/types" preserve="true" />
/**
 * webgpu-rnn: PyTorch-compatible RNN / LSTM / GRU inference on WebGPU, with a float64 CPU reference.
 */
export { type Backend, type CreateRnnOptions, type Rnn, type RnnStream, type StreamOptions, type StreamState, createRnn } from './rnn.js';
export { type RnnConfig, type RnnConfigInput, type RnnMode, RNN_MODES, gateCount, numDirections, outputSize, resolveConfig } from './config.js';
export type { ForwardOptions, ForwardResult, PushOptions } from './inputs.js';
export { type ParamKind, type ParamSpec, type Weights, checkWeights, paramName, parameterSpecs, selectPrefix } from './params.js';
export {
  type SafetensorsDtype,
  type SafetensorsFile,
  type WriteSafetensorsOptions,
  isIntTensor,
  lengthsToInt32,
  readSafetensors,
  writeSafetensors,
} from './safetensors.js';
export { type IntTensor, type Tensor, type TensorData, tensor, zeros } from './tensor.js';
export { requestDevice } from './gpu/device.js';
export type { Precision, WeightFormat } from './gpu/wgsl.js';
export type { StrategyChoice } from './gpu/strategy.js';
export { roundToFloat16 } from './float16.js';
export { RnnError, type RnnErrorCode } from './errors.js';
export { type BufferCounts, type GpuDiagnostics, type ModelDiagnostics, deviceDiagnostics, diagnostics } from './diagnostics.js';
export {
  type CreateTrainerOptions,
  type GradientsResult,
  type TrainStepResult,
  type Trainer,
  type TrainerDiagnostics,
  createTrainer,
  gradientCheck,
} from './train/trainer.js';
export type { FitOptions, FitProgress, FitReport } from './train/fit.js';
export type { SampleOptions } from './train/sample.js';
export { type DecodeOptions, type DecodeResult, MAX_BEAM } from './train/decode.js';
export { type Seq2SeqConfig, type Seq2SeqConfigInput, resolveSeq2SeqConfig } from './train/seq2seq-config.js';
export { type DatePair, type DateTask, type DateTaskOptions, DATE_FORMATS, dateTask } from './train/dates.js';
export { type Vocabulary, decode, encode, textBatches, unigramLoss, vocabularyOf } from './train/text.js';
export type { GradcheckReport } from './train/gradcheck.js';
export type { BackwardStrategy } from './gpu/ops/backward.js';
export { type ModelConfig, type ModelConfigInput, type LossName, resolveModelConfig } from './train/config.js';
export { modelParameterSpecs } from './train/model.js';
export { type OptimizerConfig, type OptimizerConfigInput, type OptimizerName, learningRate, resolveOptimizer } from './train/optim.js';
export { type InitOptions, initialParameters } from './train/init.js';
export type { TrainBatch } from './train/batch.js';
export { IGNORE_INDEX } from './train/losses/index.js';
export { type LoadOnnxOptions, type OnnxIo, type OnnxModel, type Placement as OnnxPlacement, loadOnnx } from './onnx/model.js';
export { EXPORT_OPSET, type ExportModelOnnxOptions, type ExportRnnOnnxOptions, exportModelOnnx, exportRnnOnnx } from './onnx/write.js';
