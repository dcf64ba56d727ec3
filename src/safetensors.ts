/**
 * Reader and writer of the safetensors format (https://github.com/huggingface/safetensors), the
 * format `safetensors.torch.save_file(model.state_dict(), path)` writes.
 *
 * Layout of a file:
 *   bytes [0, 8)       N, the header size: unsigned 64-bit little-endian
 *   bytes [8, 8+N)     UTF-8 JSON object: tensor name → {"dtype", "shape", "data_offsets": [begin, end]},
 *                      plus an optional "__metadata__" string → string map; may end in padding spaces
 *   bytes [8+N, end)   the data section: each tensor's little-endian, row-major elements at
 *                      [begin, end) relative to its start. Tensors may not overlap, and together they
 *                      cover the section with no holes (the reference implementation rejects both).
 *
 * Reading gives floats as Float32Array (F32, and F16 / BF16 widened exactly) or Float64Array (F64, kept
 * in float64 for the CPU reference), and integers as Int32Array (I32, and I16 / I8 / U8 widened) or
 * BigInt64Array (I64). Every element goes through a DataView, so the input may sit at any byteOffset of
 * its buffer with any alignment, on any host endianness, and the returned tensors own their memory
 * rather than aliasing the input.
 */
import { float16ToNumber } from './float16.js';
import type { IntTensor, Tensor, TensorData } from './tensor.js';
import { formatShape } from './tensor.js';

/** The element types this reader understands. */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8';

/** What a safetensors file holds, decoded. */
export interface SafetensorsFile {
  /** Tensors by name; see the file comment for which typed array each dtype becomes. */
  readonly tensors: Record<string, Tensor | IntTensor>;
  /** The dtype each tensor had in the file (F16 and BF16 are widened on reading; this remembers). */
  readonly dtypes: Record<string, SafetensorsDtype>;
  /** The `__metadata__` map; empty when the file has none. */
  readonly metadata: Record<string, string>;
}

/** Options of {@link writeSafetensors}. */
export interface WriteSafetensorsOptions {
  /** Element type for float tensors, whatever their array type: 'F32' (default, PyTorch's) or 'F64'. */
  readonly floatDtype?: 'F32' | 'F64';
  /** Written as the `__metadata__` map. */
  readonly metadata?: Record<string, string>;
}

/** Bytes of the little-endian u64 that opens every file. */
const HEADER_SIZE_BYTES = 8;
/** The reference implementation's limit (MAX_HEADER_SIZE); also bounds what a hostile file makes us decode. */
const MAX_HEADER_BYTES = 100_000_000;
/** The header is padded so the data section starts 8-byte aligned, as the reference writer does. */
const HEADER_ALIGNMENT = 8;
const METADATA_KEY = '__metadata__';

type AnyData = TensorData | IntTensor['data'];

interface DtypeReader {
  /** Bytes per element. */
  readonly size: number;
  /** Decodes `count` elements starting at byte 0 of `view`. */
  readonly read: (view: DataView, count: number) => AnyData;
}

const READERS: { readonly [D in SafetensorsDtype]: DtypeReader } = {
  F64: { size: 8, read: (v, n) => fill(new Float64Array(n), (i) => v.getFloat64(8 * i, true)) },
  F32: { size: 4, read: (v, n) => fill(new Float32Array(n), (i) => v.getFloat32(4 * i, true)) },
  F16: { size: 2, read: (v, n) => fill(new Float32Array(n), (i) => float16ToNumber(v.getUint16(2 * i, true))) },
  BF16: { size: 2, read: (v, n) => fill(new Float32Array(n), (i) => bfloat16ToNumber(v.getUint16(2 * i, true))) },
  I64: { size: 8, read: readInt64 },
  I32: { size: 4, read: (v, n) => fill(new Int32Array(n), (i) => v.getInt32(4 * i, true)) },
  I16: { size: 2, read: (v, n) => fill(new Int32Array(n), (i) => v.getInt16(2 * i, true)) },
  I8: { size: 1, read: (v, n) => fill(new Int32Array(n), (i) => v.getInt8(i)) },
  U8: { size: 1, read: (v, n) => fill(new Int32Array(n), (i) => v.getUint8(i)) },
};

function fill<A extends Float32Array | Float64Array | Int32Array>(out: A, element: (i: number) => number): A {
  for (let i = 0; i < out.length; i++) out[i] = element(i);
  return out;
}

function readInt64(view: DataView, count: number): BigInt64Array {
  const out = new BigInt64Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getBigInt64(8 * i, true);
  return out;
}

const bfloat16Scratch = new DataView(new ArrayBuffer(4));

/** bfloat16 bits → its value: bfloat16 is the top half of a float32, so widening appends 16 zero bits. */
function bfloat16ToNumber(bits: number): number {
  bfloat16Scratch.setUint32(0, bits * 0x10000);
  return bfloat16Scratch.getFloat32(0);
}

function fail(message: string): never {
  throw new Error(`safetensors: ${message}`);
}

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An entry of the header, checked against the data section. */
interface TensorEntry {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: number[];
  readonly begin: number;
  readonly end: number;
}

/**
 * Parses a safetensors file. Throws an Error naming the part of the file (or the tensor) that is
 * malformed; nothing is allocated beyond what the file's own bytes justify.
 */
export function readSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (bytes.byteLength < HEADER_SIZE_BYTES) {
    fail(`file is ${bytes.byteLength} bytes, shorter than the ${HEADER_SIZE_BYTES}-byte header-size prefix`);
  }
  // Never assume byteOffset 0: Node's Buffers are often slices of a shared pool.
  const file = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = file.getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_BYTES)) {
    fail(`header size ${declared} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  const headerBytes = Number(declared);
  const dataStart = HEADER_SIZE_BYTES + headerBytes;
  if (dataStart > bytes.byteLength) {
    fail(`header size ${headerBytes} runs past the end of the ${bytes.byteLength}-byte file`);
  }

  const header = parseHeader(bytes.subarray(HEADER_SIZE_BYTES, dataStart));
  const dataBytes = bytes.byteLength - dataStart;
  const metadata = parseMetadata(header[METADATA_KEY]);
  const entries = Object.entries(header)
    .filter(([name]) => name !== METADATA_KEY)
    .map(([name, info]) => parseEntry(name, info, dataBytes));
  checkLayout(entries, dataBytes);

  // Object.fromEntries defines own properties, so even a tensor named "__proto__" stays an ordinary key.
  const tensors = Object.fromEntries(entries.map((e) => {
    const reader = READERS[e.dtype];
    const view = new DataView(bytes.buffer, bytes.byteOffset + dataStart + e.begin, e.end - e.begin);
    const data = reader.read(view, (e.end - e.begin) / reader.size);
    return [e.name, { shape: e.shape, data } as Tensor | IntTensor];
  }));
  const dtypes = Object.fromEntries(entries.map((e) => [e.name, e.dtype]));
  return { tensors, dtypes, metadata };
}

function parseHeader(headerBytes: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    fail('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    fail(`header is not valid JSON (${(err as Error).message})`);
  }
  if (!isPlainObject(header)) fail(`header must be a JSON object, got ${describeJson(header)}`);
  return header;
}

function parseMetadata(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) fail(`${METADATA_KEY} must be an object, got ${describeJson(value)}`);
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') fail(`${METADATA_KEY} must map strings to strings; "${key}" holds ${describeJson(v)}`);
  }
  return { ...(value as Record<string, string>) };
}

function parseEntry(name: string, info: unknown, dataBytes: number): TensorEntry {
  const where = `tensor "${name}"`;
  if (!isPlainObject(info)) fail(`${where}: entry must be an object, got ${describeJson(info)}`);
  for (const field of ['dtype', 'shape', 'data_offsets']) {
    if (!(field in info)) fail(`${where}: entry lacks "${field}"`);
  }
  const { dtype, shape, data_offsets: offsets } = info;
  if (typeof dtype !== 'string' || !Object.hasOwn(READERS, dtype)) {
    fail(`${where}: unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(READERS).join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`${where}: shape ${JSON.stringify(shape)} must be an array of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    fail(`${where}: data_offsets ${JSON.stringify(offsets)} must be two non-negative integers [begin, end]`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataBytes) fail(`${where}: data_offsets [${begin}, ${end}] run past the ${dataBytes}-byte data section`);
  // The span is bounded by the file, so comparing against it bounds every later allocation; a product of
  // huge dimensions overflows to a large or infinite number and simply fails the comparison.
  const size = READERS[dtype as SafetensorsDtype].size;
  const needed = (shape as number[]).reduce((n, d) => n * d, size);
  if (needed !== end - begin) {
    fail(`${where}: data_offsets [${begin}, ${end}] span ${end - begin} bytes, but shape ` +
      `${formatShape(shape as number[])} of ${dtype} needs ${needed}`);
  }
  return { name, dtype: dtype as SafetensorsDtype, shape: [...(shape as number[])], begin, end };
}

/** The tensors must tile the data section exactly: no overlaps, no holes, no trailing bytes. */
function checkLayout(entries: TensorEntry[], dataBytes: number): void {
  const ordered = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: TensorEntry | undefined;
  for (const e of ordered) {
    if (e.begin < covered && previous !== undefined) {
      fail(`tensors "${previous.name}" [${previous.begin}, ${previous.end}] and "${e.name}" ` +
        `[${e.begin}, ${e.end}] overlap`);
    }
    if (e.begin > covered) fail(`bytes [${covered}, ${e.begin}) of the data section belong to no tensor`);
    covered = e.end;
    previous = e;
  }
  if (covered !== dataBytes) {
    fail(`bytes [${covered}, ${dataBytes}) at the end of the data section belong to no tensor`);
  }
}

/**
 * Converts sequence lengths read from a file (I32, or I64 as PyTorch's int64 tensors are) to Int32Array.
 * Throws naming the tensor and element when a value does not fit in int32.
 */
export function lengthsToInt32(t: IntTensor, name = 'lengths'): Int32Array {
  if (t.data instanceof Int32Array) return t.data.slice();
  const out = new Int32Array(t.data.length);
  for (let i = 0; i < t.data.length; i++) {
    const v = t.data[i];
    if (v < -0x8000_0000n || v > 0x7fff_ffffn) fail(`${name}[${i}] = ${v} does not fit in int32`);
    out[i] = Number(v);
  }
  return out;
}

/** True when the tensor holds integers (Int32Array or BigInt64Array data). */
export function isIntTensor(t: Tensor | IntTensor): t is IntTensor {
  return t.data instanceof Int32Array || t.data instanceof BigInt64Array;
}

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

function dtypeToWrite(name: string, t: Tensor | IntTensor, floatDtype: 'F32' | 'F64'): WrittenDtype {
  if (t.data instanceof Float32Array || t.data instanceof Float64Array) return floatDtype;
  if (t.data instanceof Int32Array) return 'I32';
  if (t.data instanceof BigInt64Array) return 'I64';
  return fail(`tensor "${name}": data must be a Float32Array, Float64Array, Int32Array or BigInt64Array`);
}

/**
 * Serializes tensors to safetensors bytes. Float tensors are written as `floatDtype` (F32 by default,
 * Float64Array data rounded), Int32Array as I32 and BigInt64Array as I64. The output is deterministic:
 * tensors are laid out by descending element size, then name, as the reference writer does, and the
 * header is padded with spaces so the data section starts 8-byte aligned.
 */
export function writeSafetensors(
  tensors: Record<string, Tensor | IntTensor>,
  options: WriteSafetensorsOptions = {},
): Uint8Array {
  const floatDtype = options.floatDtype ?? 'F32';
  if (floatDtype !== 'F32' && floatDtype !== 'F64') fail(`floatDtype must be 'F32' or 'F64', got ${JSON.stringify(floatDtype)}`);
  const entries = Object.entries(tensors).map(([name, t]) => {
    if (name === METADATA_KEY) fail(`"${METADATA_KEY}" is reserved and cannot name a tensor`);
    const dtype = dtypeToWrite(name, t, floatDtype);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor "${name}": shape ${formatShape(t.shape)} must hold non-negative integers`);
    }
    const count = t.shape.reduce((n, d) => n * d, 1);
    if (count !== t.data.length) {
      fail(`tensor "${name}": shape ${formatShape(t.shape)} holds ${count} elements, data has ${t.data.length}`);
    }
    return { name, t, dtype, bytes: count * WRITERS[dtype].size };
  });
  entries.sort((a, b) => WRITERS[a.dtype].order - WRITERS[b.dtype].order || compareNames(a.name, b.name));

  // Built by hand rather than with JSON.stringify of one object, which would move integer-like names
  // ("0", "1") to the front and so break the promised order.
  const fields: string[] = [];
  const metadata = options.metadata;
  if (metadata !== undefined && Object.keys(metadata).length > 0) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') fail(`metadata "${key}" must be a string, got ${describeJson(value)}`);
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

  const out = new Uint8Array(HEADER_SIZE_BYTES + headerBytes + offset);
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

/** Code-unit order, not locale order, so the layout is the same on every machine. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
