/**
 * A dense, row-major tensor on the host. The engine's public API speaks only this type.
 * GPU results come back as Float32Array; the float64 CPU reference returns Float64Array.
 * The checks here are what every public entry runs on a caller's tensors before using them.
 */
import { RnnError, type RnnErrorCode, describeValue } from './errors.js';

export type TensorData = Float32Array | Float64Array;

export interface Tensor {
  /** Dimensions, outermost first (row-major, like PyTorch's contiguous layout). */
  readonly shape: readonly number[];
  readonly data: TensorData;
}

/** Integer tensor (sequence lengths). */
export interface IntTensor {
  readonly shape: readonly number[];
  readonly data: Int32Array | BigInt64Array;
}

/** Number of elements a shape holds. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function formatShape(shape: readonly number[]): string {
  // A caller's shape may hold anything (a string, an object without a prototype): describe, never coerce.
  return `[${Array.from(shape, (d) => (typeof d === 'number' ? String(d) : describeValue(d))).join(', ')}]`;
}

export function shapesEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Throws a clear error naming the tensor when its shape is not the expected one. */
export function expectShape(name: string, actual: readonly number[], expected: readonly number[]): void {
  if (!shapesEqual(actual, expected)) {
    throw new RnnError('TENSOR_INVALID', `${name}: expected shape ${formatShape(expected)}, got ${formatShape(actual)}`);
  }
}

/**
 * Checks that `value` is a float tensor a caller may hand us: an object with a `shape` of non-negative
 * integers and a Float32Array / Float64Array `data` holding exactly the shape's element count.
 */
export function checkFloatTensor(name: string, value: unknown, code: RnnErrorCode = 'TENSOR_INVALID'): Tensor {
  const shape = checkTensorShape(name, value, code);
  checkLength(name, shape, checkFloatData(name, value as object, code).length, code);
  return value as Tensor;
}

/** The `data` of a tensor-like object, checked to be a Float32Array or Float64Array. */
export function checkFloatData(name: string, value: object, code: RnnErrorCode = 'TENSOR_INVALID'): TensorData {
  const data = (value as { data?: unknown }).data;
  if (!(data instanceof Float32Array || data instanceof Float64Array)) {
    throw new RnnError(code, `${name}.data: expected a Float32Array or Float64Array, got ${describeValue(data)}`);
  }
  return data;
}

/** The same for an integer tensor (Int32Array or BigInt64Array data), e.g. lengths read from a file. */
export function checkIntTensor(name: string, value: unknown, code: RnnErrorCode = 'TENSOR_INVALID'): IntTensor {
  const shape = checkTensorShape(name, value, code);
  const data = (value as { data?: unknown }).data;
  if (!(data instanceof Int32Array || data instanceof BigInt64Array)) {
    throw new RnnError(code, `${name}.data: expected an Int32Array or BigInt64Array, got ${describeValue(data)}`);
  }
  checkLength(name, shape, data.length, code);
  return value as IntTensor;
}

/** The `shape` of a tensor-like object, checked to be an array of non-negative integers. */
export function checkTensorShape(name: string, value: unknown, code: RnnErrorCode = 'TENSOR_INVALID'): readonly number[] {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value) || Array.isArray(value)) {
    throw new RnnError(code, `${name}: expected a tensor { shape, data }, got ${describeValue(value)}`);
  }
  const shape = (value as { shape?: unknown }).shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new RnnError(
      code,
      `${name}.shape: expected an array of non-negative integers, got ${Array.isArray(shape) ? formatShape(shape) : describeValue(shape)}`,
    );
  }
  return shape as number[];
}

/** Checks that a data array of `length` elements fills `shape` exactly. */
export function checkLength(name: string, shape: readonly number[], length: number, code: RnnErrorCode = 'TENSOR_INVALID'): void {
  if (length !== sizeOf(shape)) {
    throw new RnnError(code, `${name}: shape ${formatShape(shape)} holds ${sizeOf(shape)} elements, data has ${length}`);
  }
}

/** Index of the first NaN or ±Inf in `data`, or -1. */
export function firstNonFinite(data: ArrayLike<number>): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
}

/** Builds a tensor, checking that the data length matches the shape. */
export function tensor(shape: readonly number[], data: TensorData): Tensor {
  return checkFloatTensor('tensor', { shape: [...shape], data });
}

export function zeros(shape: readonly number[], kind: 'f32' | 'f64' = 'f32'): Tensor {
  const n = sizeOf(shape);
  return { shape: [...shape], data: kind === 'f32' ? new Float32Array(n) : new Float64Array(n) };
}
