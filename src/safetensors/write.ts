/**
 * writeSafetensors: checks each tensor it is handed, lays them out deterministically (by descending
 * element size, then name, as the reference writer does), writes the header by hand so that order
 * survives, pads it to 8-byte alignment, then writes each tensor's elements little-endian.
 */
import { RnnError, describeValue } from '../errors.js';
import type { IntTensor, Tensor } from '../tensor.js';
import { HEADER_ALIGNMENT, HEADER_SIZE_BYTES, MAX_HEADER_BYTES, METADATA_KEY, elementCount, isRecord } from './format.js';
import { describeJson, fail, quote, showJson, showShape } from './messages.js';
import type { AnyData, WriteSafetensorsOptions } from './types.js';

type WrittenDtype = 'F64' | 'F32' | 'I64' | 'I32';

interface DtypeWriter {
  readonly size: number;
  /**
   * Position in the data section, smallest first. Like the reference writer (descending dtype, then
   * name), wider elements go first so every tensor starts aligned to its element size.
   */
  readonly order: number;
  readonly write: (view: DataView, data: AnyData) => void;
}

const WRITERS: { readonly [D in WrittenDtype]: DtypeWriter } = {
  I64: { size: 8, order: 0, write: (v, d) => each(d, (i, x) => v.setBigInt64(8 * i, BigInt(x), true)) },
  F64: { size: 8, order: 1, write: (v, d) => each(d, (i, x) => v.setFloat64(8 * i, Number(x), true)) },
  F32: { size: 4, order: 2, write: (v, d) => each(d, (i, x) => v.setFloat32(4 * i, Number(x), true)) },
  I32: { size: 4, order: 3, write: (v, d) => each(d, (i, x) => v.setInt32(4 * i, Number(x), true)) },
};

function each(data: AnyData, put: (i: number, x: number | bigint) => void): void {
  for (let i = 0; i < data.length; i++) put(i, data[i]);
}

/** Checks one tensor handed to the writer; returns its dtype in the file and its element count. */
function checkWritable(name: string, t: unknown, floatDtype: 'F32' | 'F64'): { dtype: WrittenDtype; count: number } {
  const bad: (problem: string) => never = (problem) => fail(`tensor ${quote(name)}: ${problem}`);
  if (name === METADATA_KEY) fail(`"${METADATA_KEY}" is reserved and cannot name a tensor`);
  if (typeof t !== 'object' || t === null || Array.isArray(t) || ArrayBuffer.isView(t)) {
    bad(`expected a tensor { shape, data }, got ${describeValue(t)}`);
  }
  const { shape, data } = t as { shape?: unknown; data?: unknown };
  const dtype: WrittenDtype | undefined =
    data instanceof Float32Array || data instanceof Float64Array
      ? floatDtype
      : data instanceof Int32Array
        ? 'I32'
        : data instanceof BigInt64Array
          ? 'I64'
          : undefined;
  if (dtype === undefined) {
    bad(`data must be a Float32Array, Float64Array, Int32Array or BigInt64Array, got ${describeValue(data)}`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    bad(`shape ${showJson(shape)} must hold non-negative integers`);
  }
  const count = elementCount(shape);
  const length = (data as AnyData).length;
  if (count !== length) bad(`shape ${showShape(shape)} holds ${count} elements, data has ${length}`);
  return { dtype, count };
}

/**
 * Serializes tensors to safetensors bytes. Float tensors are written as `floatDtype` (F32 by default,
 * Float64Array data rounded), Int32Array as I32 and BigInt64Array as I64. The output is deterministic:
 * tensors are laid out by descending element size, then name, as the reference writer does, and the
 * header is padded with spaces so the data section starts 8-byte aligned.
 */
export function writeSafetensors(tensors: Record<string, Tensor | IntTensor>, options: WriteSafetensorsOptions = {}): Uint8Array {
  if (!isRecord(tensors)) {
    throw new RnnError('SAFETENSORS_INVALID', `writeSafetensors: expected tensors as an object { name: { shape, data } }, got ${describeValue(tensors)}`);
  }
  if (!isRecord(options)) {
    throw new RnnError('SAFETENSORS_INVALID', `writeSafetensors: expected options as an object, got ${describeValue(options)}`);
  }
  const floatDtype = options.floatDtype ?? 'F32';
  if (floatDtype !== 'F32' && floatDtype !== 'F64') fail(`floatDtype must be 'F32' or 'F64', got ${describeValue(floatDtype)}`);
  const entries = Object.entries(tensors).map(([name, t]) => {
    const { dtype, count } = checkWritable(name, t, floatDtype);
    return { name, t, dtype, bytes: count * WRITERS[dtype].size };
  });
  entries.sort((a, b) => WRITERS[a.dtype].order - WRITERS[b.dtype].order || compareNames(a.name, b.name));

  // Built by hand rather than with JSON.stringify of one object, which would move integer-like names
  // ("0", "1") to the front and so break the promised order.
  const fields: string[] = [];
  const metadata = options.metadata;
  if (metadata !== undefined && !isRecord(metadata)) fail(`metadata must be an object of strings, got ${describeValue(metadata)}`);
  if (metadata !== undefined && Object.keys(metadata).length > 0) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') fail(`metadata ${quote(key)} must be a string, got ${describeJson(value)}`);
    }
    const sorted = Object.keys(metadata).sort(compareNames);
    fields.push(`"${METADATA_KEY}":{${sorted.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`);
  }
  let offset = 0;
  for (const e of entries) {
    const info = { dtype: e.dtype, shape: [...e.t.shape], data_offsets: [offset, offset + e.bytes] };
    fields.push(`${JSON.stringify(e.name)}:${JSON.stringify(info)}`);
    offset += e.bytes;
  }
  const headerText = new TextEncoder().encode(`{${fields.join(',')}}`);
  const headerBytes = Math.ceil(headerText.length / HEADER_ALIGNMENT) * HEADER_ALIGNMENT;
  if (headerBytes > MAX_HEADER_BYTES) fail(`header of ${headerBytes} bytes exceeds the ${MAX_HEADER_BYTES}-byte limit readers enforce`);

  const out = allocateFile(HEADER_SIZE_BYTES + headerBytes + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes), true);
  out.set(headerText, HEADER_SIZE_BYTES);
  out.fill(0x20, HEADER_SIZE_BYTES + headerText.length, HEADER_SIZE_BYTES + headerBytes); // ASCII space
  let at = HEADER_SIZE_BYTES + headerBytes;
  for (const e of entries) {
    WRITERS[e.dtype].write(new DataView(out.buffer, at, e.bytes), e.t.data);
    at += e.bytes;
  }
  return out;
}

/** The output buffer; past what this engine can allocate, an RnnError rather than its RangeError. */
function allocateFile(bytes: number): Uint8Array {
  try {
    return new Uint8Array(bytes);
  } catch (cause) {
    throw new RnnError('LIMIT_EXCEEDED', `safetensors: cannot allocate a ${bytes}-byte file`, { cause });
  }
}

/** Code-unit order, not locale order, so the layout is the same on every machine. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
