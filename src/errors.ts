/**
 * The library's one error type: every mistake a caller can make, and every condition of the host the
 * caller has to act on, throws an RnnError whose `code` says which kind it is (stable, for programs)
 * and whose message names the tensor, option or thing at fault, what was expected and what was given
 * (for people). Anything else that escapes is a bug in this library.
 */
export type RnnErrorCode =
  /** A configuration key or value PyTorch would reject, or an unknown key. */
  | 'CONFIG_INVALID'
  /** An option of createRnn / forward / stream / push that is unknown, of the wrong type or out of range. */
  | 'OPTION_INVALID'
  /** An input tensor (input, h0, c0, lengths, a stream chunk) of the wrong type, shape, length or dtype. */
  | 'TENSOR_INVALID'
  /** Weights that do not match the configuration: missing, unexpected, mis-shaped, wrong type or dtype. */
  | 'WEIGHTS_INVALID'
  /** NaN or ±Inf in weights or inputs of a model created with `checkFinite: true`. */
  | 'NON_FINITE'
  /** A safetensors file that is malformed, truncated or inconsistent. */
  | 'SAFETENSORS_INVALID'
  /** A shape too large for the library's caps or the device's limits, that cannot be split. */
  | 'LIMIT_EXCEEDED'
  /** A model used after destroy(), or a stream after close(). */
  | 'DESTROYED'
  /** The WebGPU device was lost (destroyed, driver reset): create the model again. */
  | 'DEVICE_LOST'
  /** WebGPU reported a validation error (a bug here, or a device shared with code that broke it). */
  | 'GPU_VALIDATION'
  /** WebGPU ran out of memory. */
  | 'GPU_OUT_OF_MEMORY'
  /** This host has no WebGPU (no navigator.gpu, no adapter). */
  | 'WEBGPU_UNAVAILABLE'
  /** Node has no WebGPU: the optional `webgpu` package (Dawn) is not installed. */
  | 'WEBGPU_PACKAGE_MISSING'
  /** An ONNX file that is malformed or inconsistent (bad protobuf, a tensor's data not its shape, a dangling name). */
  | 'ONNX_INVALID'
  /** An ONNX graph this library cannot run: an operator, attribute or data type it does not implement (all named at load). */
  | 'ONNX_UNSUPPORTED'
  /** The command line: an unknown command or option, or a missing value. */
  | 'USAGE'
  /** The command line: a file that cannot be read or written (missing, a directory, no such folder). */
  | 'FILE';

export class RnnError extends Error {
  override readonly name = 'RnnError';

  constructor(
    readonly code: RnnErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A short, readable description of a JavaScript value for an error message ("a Float32Array", "null", "\"abc\""). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  const name = (value as object).constructor?.name;
  if (ArrayBuffer.isView(value)) return `a ${name} of ${(value as unknown as ArrayLike<unknown>).length ?? (value as DataView).byteLength}`;
  if (value instanceof ArrayBuffer) return `an ArrayBuffer of ${value.byteLength} bytes`;
  return name && name !== 'Object' ? `a ${name}` : 'an object';
}
