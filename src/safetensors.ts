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
 * BigInt64Array (I64). On a little-endian host (nearly all), a tensor whose bytes start at a multiple of
 * its element size within the input's ArrayBuffer is copied (and widened) by one typed-array construction;
 * otherwise (unaligned input, a big-endian host, F16 / BF16) every element goes through a DataView, so the
 * input may sit at any byteOffset with any alignment. Either way the returned tensors own their memory
 * rather than aliasing the input.
 *
 * Files are treated as hostile: every problem is an RnnError with code SAFETENSORS_INVALID, and nothing
 * is allocated for a size the file claims before that size is checked against the file's real length.
 * The header's nesting is checked before JSON.parse (so nothing recurses on it) and its keys after (a
 * repeated key is an error, not silently dropped); the outputs hold at most 4 bytes per input byte
 * (U8 / I8 widened to Int32Array is the largest widening).
 */
import { RnnError, describeValue } from './errors.js';
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
/**
 * The deepest a valid header nests: the header object → a tensor's entry → its shape or data_offsets. (An
 * unknown field of an entry nesting deeper is rejected too; the reference ignores unknown fields, but no
 * writer emits any.)
 */
const MAX_HEADER_DEPTH = 3;
/** The header is padded so the data section starts 8-byte aligned, as the reference writer does. */
const HEADER_ALIGNMENT = 8;
const METADATA_KEY = '__metadata__';
/** Names and values longer than this are cut short in error messages. */
const MESSAGE_TEXT_CHARS = 60;
/** Array elements shown in an error message before "…". */
const MESSAGE_ARRAY_ITEMS = 8;
/** Detected once: safetensors is little-endian, so only such a host may copy elements without a DataView. */
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

type AnyData = TensorData | IntTensor['data'];

interface DtypeReader {
  /** Bytes per element. */
  readonly size: number;
  /** Decodes `count` elements from byte 0 of `view`, one DataView call each: any alignment, any host. */
  readonly read: (view: DataView, count: number) => AnyData;
  /**
   * The fast path, on a little-endian host for elements starting at a multiple of `size` in `buffer`: one
   * native copy, widening where the output type is wider (`new Int32Array(int8View)`). Never a view of the
   * input. Absent where elements need decoding (F16, BF16).
   */
  readonly copy?: (buffer: ArrayBufferLike, byteOffset: number, count: number) => AnyData;
}

const READERS: { readonly [D in SafetensorsDtype]: DtypeReader } = {
  F64: {
    size: 8,
    read: (v, n) => fill(new Float64Array(n), (i) => v.getFloat64(8 * i, true)),
    copy: (b, at, n) => new Float64Array(new Float64Array(b, at, n)),
  },
  F32: {
    size: 4,
    read: (v, n) => fill(new Float32Array(n), (i) => v.getFloat32(4 * i, true)),
    copy: (b, at, n) => new Float32Array(new Float32Array(b, at, n)),
  },
  F16: { size: 2, read: (v, n) => fill(new Float32Array(n), (i) => float16ToNumber(v.getUint16(2 * i, true))) },
  BF16: { size: 2, read: (v, n) => fill(new Float32Array(n), (i) => bfloat16ToNumber(v.getUint16(2 * i, true))) },
  I64: {
    size: 8,
    read: readInt64,
    copy: (b, at, n) => new BigInt64Array(new BigInt64Array(b, at, n)),
  },
  I32: {
    size: 4,
    read: (v, n) => fill(new Int32Array(n), (i) => v.getInt32(4 * i, true)),
    copy: (b, at, n) => new Int32Array(new Int32Array(b, at, n)),
  },
  I16: {
    size: 2,
    read: (v, n) => fill(new Int32Array(n), (i) => v.getInt16(2 * i, true)),
    copy: (b, at, n) => new Int32Array(new Int16Array(b, at, n)),
  },
  I8: {
    size: 1,
    read: (v, n) => fill(new Int32Array(n), (i) => v.getInt8(i)),
    copy: (b, at, n) => new Int32Array(new Int8Array(b, at, n)),
  },
  U8: {
    size: 1,
    read: (v, n) => fill(new Int32Array(n), (i) => v.getUint8(i)),
    copy: (b, at, n) => new Int32Array(new Uint8Array(b, at, n)),
  },
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

/** Decodes `bytes` bytes of `dtype` elements at `byteOffset` of `buffer` into a new array. */
function decode(dtype: SafetensorsDtype, buffer: ArrayBufferLike, byteOffset: number, bytes: number): AnyData {
  const { size, read, copy } = READERS[dtype];
  const count = bytes / size;
  if (copy !== undefined && HOST_IS_LITTLE_ENDIAN && byteOffset % size === 0) return copy(buffer, byteOffset, count);
  return read(new DataView(buffer, byteOffset, bytes), count);
}

function fail(message: string): never {
  throw new RnnError('SAFETENSORS_INVALID', `safetensors: ${message}`);
}

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * A header value as the file spells it, for messages: long strings and arrays cut short, nested values
 * not entered (a hostile header can nest or repeat without end; JSON.stringify would recurse or balloon).
 */
function showJson(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number') return JSON.stringify(value);
  if (value === null || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    const shown = value.slice(0, MESSAGE_ARRAY_ITEMS).map((v) => (Array.isArray(v) ? '[…]' : isRecord(v) ? '{…}' : showJson(v)));
    return `[${shown.join(',')}${value.length > MESSAGE_ARRAY_ITEMS ? ',…' : ''}]`;
  }
  return isRecord(value) ? '{…}' : describeValue(value);
}

/** A checked shape for messages, `[2, 3]`, cut short after MESSAGE_ARRAY_ITEMS dimensions. */
function showShape(shape: readonly number[]): string {
  return shape.length > MESSAGE_ARRAY_ITEMS ? formatShape(shape.slice(0, MESSAGE_ARRAY_ITEMS)).replace(/]$/, ', …]') : formatShape(shape);
}

/** A name for messages: JSON-quoted (names may hold quotes or control characters) and cut short. */
function quote(text: string): string {
  return JSON.stringify(text.length > MESSAGE_TEXT_CHARS ? `${text.slice(0, MESSAGE_TEXT_CHARS)}…` : text);
}

/** An object literal or JSON object: a string-keyed map, not an array, typed array, Map or class instance. */
function isRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Number of elements of a valid shape; exact up to 2^53, and never NaN (a zero dimension wins over Infinity). */
function elementCount(shape: readonly number[]): number {
  return shape.includes(0) ? 0 : shape.reduce((n, d) => n * d, 1);
}

/** The intrinsic check behind util.types.isUint8Array: true for Buffers, false for Proxies and look-alikes. */
const typedArrayName = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag)!.get!;

function checkFileArgument(bytes: unknown): asserts bytes is Uint8Array {
  if (typedArrayName.call(bytes) === 'Uint8Array') return;
  const hint = bytes instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && bytes instanceof SharedArrayBuffer)
    ? ' (wrap it: new Uint8Array(buffer))'
    : ArrayBuffer.isView(bytes) ? ' (view its bytes: new Uint8Array(view.buffer, view.byteOffset, view.byteLength))'
    : bytes instanceof Uint8Array ? ' that is a Proxy or look-alike (pass the Uint8Array itself)' : '';
  throw new RnnError('SAFETENSORS_INVALID',
    `readSafetensors: expected the file's bytes as a Uint8Array, got ${describeValue(bytes)}${hint}`);
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
 * Parses a safetensors file. Throws an RnnError with code SAFETENSORS_INVALID naming the part of the file
 * (or the tensor) that is malformed, or when given anything but a Uint8Array; nothing is allocated beyond
 * what the file's own bytes justify.
 */
export function readSafetensors(bytes: Uint8Array): SafetensorsFile {
  checkFileArgument(bytes);
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

  const fields = parseHeader(bytes.subarray(HEADER_SIZE_BYTES, dataStart));
  const dataBytes = bytes.byteLength - dataStart;
  const metadata = parseMetadata(fields.find(([name]) => name === METADATA_KEY)?.[1]);
  const entries = fields
    .filter(([name]) => name !== METADATA_KEY)
    .map(([name, info]) => parseEntry(name, info, dataBytes));
  checkLayout(entries, dataBytes);

  // Object.fromEntries defines own properties, so even a tensor named "__proto__" stays an ordinary key.
  const at = bytes.byteOffset + dataStart;
  const tensors = Object.fromEntries(entries.map((e) => {
    const data = decode(e.dtype, bytes.buffer, at + e.begin, e.end - e.begin);
    return [e.name, { shape: e.shape, data } as Tensor | IntTensor];
  }));
  const dtypes = Object.fromEntries(entries.map((e) => [e.name, e.dtype]));
  return { tensors, dtypes, metadata };
}

/** The header's [key, value] pairs, in file order, once it is known to be a JSON object with no key repeated. */
function parseHeader(headerBytes: Uint8Array): [string, unknown][] {
  let text: string;
  try {
    // ignoreBOM keeps a leading U+FEFF in the text, so JSON.parse rejects it as the reference does.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    fail('header is not valid UTF-8');
  }
  const { keys } = scanHeader(text, false);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    fail(`header is not valid JSON (${(err as Error).message})`);
  }
  if (!isRecord(header)) fail(`header must be a JSON object, got ${describeJson(header)}`);
  const fields = Object.entries(header);
  // JSON.parse keeps only the last of a repeated key; fewer keys parsed than written means one was.
  if (fields.reduce((n, [, value]) => n + countKeys(value, 2), fields.length) !== keys) {
    fail(`header repeats the key ${quote(scanHeader(text, true).repeated ?? '?')} within one object`);
  }
  return fields;
}

/** Character codes the header scan looks for. */
const CHAR = {
  quote: 0x22, backslash: 0x5c, colon: 0x3a, comma: 0x2c, openObject: 0x7b, closeObject: 0x7d, openArray: 0x5b, closeArray: 0x5d,
};

/**
 * One pass over the header text, safe on any text (whether it is JSON is left to JSON.parse): rejects
 * nesting deeper than a header has, before JSON.parse builds anything, so that nothing later recurses
 * or holds more than flat arrays; counts the keys written (in JSON a colon outside strings follows each);
 * and when asked (an error path: it costs a Set per object), finds the first key repeated within one object.
 */
function scanHeader(text: string, findRepeated: boolean): { keys: number; repeated?: string } {
  const open: (Set<string> | null)[] = []; // per open container: its keys so far (object) or null (array)
  let keys = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === CHAR.quote) {
      const j = closingQuote(text, i);
      const seen = open[open.length - 1];
      if (findRepeated && expectKey && seen) {
        const key = unescapeKey(text.slice(i + 1, j));
        if (seen.has(key)) return { keys, repeated: key };
        seen.add(key);
      }
      expectKey = false;
      i = j;
    } else if (c === CHAR.colon) {
      keys++;
    } else if (c === CHAR.openObject || c === CHAR.openArray) {
      if (open.length === MAX_HEADER_DEPTH) {
        fail(`header nests deeper than ${MAX_HEADER_DEPTH} levels (header → tensor entry → shape), which no valid header does`);
      }
      open.push(c === CHAR.openObject && findRepeated ? new Set() : null);
      expectKey = c === CHAR.openObject;
    } else if (c === CHAR.closeObject || c === CHAR.closeArray) {
      open.pop();
      expectKey = false;
    } else if (c === CHAR.comma) {
      expectKey = open[open.length - 1] != null;
    }
  }
  return { keys };
}

/** Index of the quote that closes the string opening at `open` (text.length if none): one not escaped. */
function closingQuote(text: string, open: number): number {
  for (let j = text.indexOf('"', open + 1); j !== -1; j = text.indexOf('"', j + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(j - 1 - backslashes) === CHAR.backslash) backslashes++;
    if (backslashes % 2 === 0) return j;
  }
  return text.length;
}

/** Keys of a parsed header value at `depth` and of every object within it (MAX_HEADER_DEPTH bounds the depth). */
function countKeys(value: unknown, depth: number): number {
  if (typeof value !== 'object' || value === null) return 0;
  if (depth === MAX_HEADER_DEPTH) return Array.isArray(value) ? 0 : Object.keys(value).length; // holds no containers
  const children = Object.values(value);
  return children.reduce((n: number, child) => n + countKeys(child, depth + 1), Array.isArray(value) ? 0 : children.length);
}

/** The string a JSON key's text (between its quotes) stands for; the raw text when its escapes are invalid. */
function unescapeKey(raw: string): string {
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw; // the whole header then fails JSON.parse, which is reported first
  }
}

function parseMetadata(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (!isRecord(value)) fail(`${METADATA_KEY} must be an object, got ${describeJson(value)}`);
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') fail(`${METADATA_KEY} must map strings to strings; ${quote(key)} holds ${describeJson(v)}`);
  }
  return { ...(value as Record<string, string>) };
}

function parseEntry(name: string, info: unknown, dataBytes: number): TensorEntry {
  const bad: (problem: string) => never = (problem) => fail(`tensor ${quote(name)}: ${problem}`);
  if (!isRecord(info)) bad(`entry must be an object, got ${describeJson(info)}`);
  for (const field of ['dtype', 'shape', 'data_offsets']) {
    if (!Object.hasOwn(info, field)) bad(`entry lacks "${field}"`);
  }
  const { dtype, shape, data_offsets: offsets } = info;
  if (typeof dtype !== 'string' || !Object.hasOwn(READERS, dtype)) {
    bad(`unsupported dtype ${showJson(dtype)} (supported: ${Object.keys(READERS).join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    bad(`shape ${showJson(shape)} must be an array of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    bad(`data_offsets ${showJson(offsets)} must be two non-negative integers [begin, end]`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) bad(`data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataBytes) bad(`data_offsets [${begin}, ${end}] run past the ${dataBytes}-byte data section`);
  // The span is bounded by the file, so comparing against it bounds every later allocation; a product of
  // huge dimensions is inexact or infinite, but always far above any span, so it fails the comparison.
  const dims = (shape as number[]).map((d) => d + 0); // + 0 turns a JSON -0 into 0
  const needed = elementCount(dims) * READERS[dtype as SafetensorsDtype].size;
  if (needed !== end - begin) {
    bad(`data_offsets [${begin}, ${end}] span ${end - begin} bytes, but shape ` +
      `${showShape(dims)} of ${dtype} needs ${needed}`);
  }
  return { name, dtype: dtype as SafetensorsDtype, shape: dims, begin, end };
}

/** The tensors must tile the data section exactly: no overlaps, no holes, no trailing bytes. */
function checkLayout(entries: TensorEntry[], dataBytes: number): void {
  const ordered = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: TensorEntry | undefined;
  for (const e of ordered) {
    if (e.begin < covered && previous !== undefined) {
      fail(`tensors ${quote(previous.name)} [${previous.begin}, ${previous.end}] and ${quote(e.name)} ` +
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
 * Throws an RnnError (TENSOR_INVALID) naming the tensor, and the element when a value does not fit in int32.
 */
export function lengthsToInt32(t: IntTensor, name = 'lengths'): Int32Array {
  const data: unknown = t?.data;
  if (data instanceof Int32Array) return data.slice();
  if (!(data instanceof BigInt64Array)) {
    throw new RnnError('TENSOR_INVALID', `${name}.data: expected an Int32Array or BigInt64Array, got ${describeValue(data)}`);
  }
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < -0x8000_0000n || v > 0x7fff_ffffn) throw new RnnError('TENSOR_INVALID', `${name}[${i}] = ${v} does not fit in int32`);
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

/** Checks one tensor handed to the writer; returns its dtype in the file and its element count. */
function checkWritable(name: string, t: unknown, floatDtype: 'F32' | 'F64'): { dtype: WrittenDtype; count: number } {
  const bad: (problem: string) => never = (problem) => fail(`tensor ${quote(name)}: ${problem}`);
  if (name === METADATA_KEY) fail(`"${METADATA_KEY}" is reserved and cannot name a tensor`);
  if (typeof t !== 'object' || t === null || Array.isArray(t) || ArrayBuffer.isView(t)) {
    bad(`expected a tensor { shape, data }, got ${describeValue(t)}`);
  }
  const { shape, data } = t as { shape?: unknown; data?: unknown };
  const dtype: WrittenDtype | undefined = data instanceof Float32Array || data instanceof Float64Array ? floatDtype
    : data instanceof Int32Array ? 'I32' : data instanceof BigInt64Array ? 'I64' : undefined;
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
export function writeSafetensors(
  tensors: Record<string, Tensor | IntTensor>,
  options: WriteSafetensorsOptions = {},
): Uint8Array {
  if (!isRecord(tensors)) {
    throw new RnnError('SAFETENSORS_INVALID',
      `writeSafetensors: expected tensors as an object { name: { shape, data } }, got ${describeValue(tensors)}`);
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
