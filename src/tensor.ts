/**
 * A dense, row-major tensor on the host. The engine's public API speaks only this type.
 * GPU results come back as Float32Array; the float64 CPU reference returns Float64Array.
 */
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
  return `[${shape.join(', ')}]`;
}

export function shapesEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Throws a clear error naming the tensor when its shape is not the expected one. */
export function expectShape(name: string, actual: readonly number[], expected: readonly number[]): void {
  if (!shapesEqual(actual, expected)) {
    throw new RangeError(`${name}: expected shape ${formatShape(expected)}, got ${formatShape(actual)}`);
  }
}

/** Builds a tensor, checking that the data length matches the shape. */
export function tensor(shape: readonly number[], data: TensorData): Tensor {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`tensor: invalid dimension in shape ${formatShape(shape)}`);
  }
  if (data.length !== sizeOf(shape)) {
    throw new RangeError(`tensor: shape ${formatShape(shape)} holds ${sizeOf(shape)} elements, data has ${data.length}`);
  }
  return { shape: [...shape], data };
}

export function zeros(shape: readonly number[], kind: 'f32' | 'f64' = 'f32'): Tensor {
  const n = sizeOf(shape);
  return { shape: [...shape], data: kind === 'f32' ? new Float32Array(n) : new Float64Array(n) };
}
