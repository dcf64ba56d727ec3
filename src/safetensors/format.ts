/**
 * Facts of the safetensors layout that the header parser, the reader and the writer share: the size of
 * the header-size prefix, the header's limits (size, nesting) and alignment, the reserved metadata key;
 * and the two checks both directions make of values, isRecord (a JSON object) and elementCount.
 */

/** Bytes of the little-endian u64 that opens every file. */
export const HEADER_SIZE_BYTES = 8;
/** The reference implementation's limit (MAX_HEADER_SIZE); also bounds what a hostile file makes us decode. */
export const MAX_HEADER_BYTES = 100_000_000;
/**
 * The deepest a valid header nests: the header object → a tensor's entry → its shape or data_offsets. (An
 * unknown field of an entry nesting deeper is rejected too; the reference ignores unknown fields, but no
 * writer emits any.)
 */
export const MAX_HEADER_DEPTH = 3;
/** The header is padded so the data section starts 8-byte aligned, as the reference writer does. */
export const HEADER_ALIGNMENT = 8;
/** The reserved header key of the string → string metadata map; no tensor may have this name. */
export const METADATA_KEY = '__metadata__';

/** An object literal or JSON object: a string-keyed map, not an array, typed array, Map or class instance. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Number of elements of a valid shape; exact up to 2^53, and never NaN (a zero dimension wins over Infinity). */
export function elementCount(shape: readonly number[]): number {
  return shape.includes(0) ? 0 : shape.reduce((n, d) => n * d, 1);
}
