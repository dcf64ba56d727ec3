import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import type { RnnErrorCode } from '../src/errors.js';
import { isIntTensor, lengthsToInt32, readSafetensors, writeSafetensors } from '../src/safetensors.js';
import type { IntTensor, Tensor } from '../src/tensor.js';

const FIXTURE = new URL('./fixtures/safetensors/tiny.safetensors', import.meta.url);

/** A safetensors file assembled by hand: header size (declared, or the header's length), header, data. */
function rawFile(header: string | object, data: ArrayLike<number> = [], declaredSize?: bigint): Uint8Array {
  const text = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, declaredSize ?? BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

/** What toThrow expects of the library's errors: an RnnError with this code and message. */
function invalid(message: RegExp | string, code: RnnErrorCode = 'SAFETENSORS_INVALID') {
  return expect.objectContaining({
    name: 'RnnError',
    code,
    message: typeof message === 'string' ? expect.stringContaining(message) : expect.stringMatching(message),
  });
}

/** Little-endian bytes of 16-bit patterns. */
function u16Bytes(bits: number[]): Uint8Array {
  return new Uint8Array(new Uint16Array(bits).buffer);
}

/** Reads a one-tensor file holding the given 16-bit patterns as `dtype`. */
function decode16(dtype: 'F16' | 'BF16', bits: number[]): number[] {
  const file = rawFile({ x: { dtype, shape: [bits.length], data_offsets: [0, 2 * bits.length] } }, u16Bytes(bits));
  return Array.from(readSafetensors(file).tensors.x.data as Float32Array);
}

function floats(t: Tensor | IntTensor): number[] {
  return Array.from(t.data as Float32Array | Float64Array);
}

function headerText(bytes: Uint8Array): string {
  const size = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return new TextDecoder().decode(bytes.subarray(8, 8 + size));
}

describe('readSafetensors on a file written by Python (make_tiny.py)', () => {
  const file = readSafetensors(readFileSync(FIXTURE));

  it('reads metadata and dtypes', () => {
    expect(file.metadata).toEqual({ format: 'pt', written_by: 'make_tiny.py' });
    expect(file.dtypes).toEqual({
      lengths: 'I64',
      double: 'F64',
      empty: 'F32',
      scalar: 'F32',
      weight: 'F32',
      ints: 'I32',
      brain: 'BF16',
      half: 'F16',
    });
  });

  it('decodes F32, including 0-d and empty tensors and -0', () => {
    const { weight, scalar, empty } = file.tensors;
    expect(weight.shape).toEqual([2, 3]);
    expect(weight.data).toBeInstanceOf(Float32Array);
    expect(floats(weight)).toEqual([1.5, -2.25, 3, Math.fround(0.1), Math.fround(1e-3), -0]);
    expect(Object.is(weight.data[5], -0)).toBe(true);
    expect(scalar.shape).toEqual([]);
    expect(floats(scalar)).toEqual([42]);
    expect(empty.shape).toEqual([0, 3]);
    expect(empty.data.length).toBe(0);
  });

  it('keeps F64 in float64', () => {
    expect(file.tensors.double.data).toBeInstanceOf(Float64Array);
    expect(floats(file.tensors.double)).toEqual([Math.PI, -1e-300, 5e-324]);
  });

  it('widens F16 and BF16 to float32 exactly', () => {
    expect(file.tensors.half.data).toBeInstanceOf(Float32Array);
    expect(floats(file.tensors.half)).toEqual([1, -2.5, 65504, 2 ** -24, 0.333251953125, Infinity, -Infinity, NaN]);
    expect(file.tensors.brain.shape).toEqual([2, 2]);
    expect(floats(file.tensors.brain)).toEqual([3.140625, -1, 2 ** -133, -Infinity]);
  });

  it('reads I32 as Int32Array and I64 as BigInt64Array', () => {
    expect(file.tensors.ints.data).toEqual(new Int32Array([1, -2, 2147483647, -2147483648]));
    expect(file.tensors.lengths.data).toEqual(new BigInt64Array([5n, -7n, 2n ** 62n, -(2n ** 63n)]));
    expect(isIntTensor(file.tensors.lengths)).toBe(true);
    expect(isIntTensor(file.tensors.weight)).toBe(false);
  });

  it('reads the same from a Uint8Array at an odd byteOffset of a larger buffer', () => {
    const bytes = readFileSync(FIXTURE);
    const backing = new Uint8Array(bytes.length + 10);
    backing.set(bytes, 3);
    const shifted = backing.subarray(3, 3 + bytes.length);
    expect(shifted.byteOffset).toBe(3);
    const again = readSafetensors(shifted);
    expect(again).toEqual(file);
    // The tensors own their memory: clobbering the input changes nothing.
    backing.fill(0);
    expect(floats(again.tensors.weight)[0]).toBe(1.5);
  });
});

describe('aligned (fast path) and unaligned (DataView) reading', () => {
  // Every dtype, wide elements first so each tensor starts at a multiple of its element size when the
  // file does; values at the edges of each type.
  const layout: [name: string, dtype: string, size: number, put: (v: DataView, at: number, x: number) => void, values: number[]][] = [
    ['f64', 'F64', 8, (v, at, x) => v.setFloat64(at, x, true), [Math.PI, -0, 5e-324, -Infinity, NaN]],
    ['i64', 'I64', 8, (v, at, x) => v.setBigInt64(at, BigInt(x), true), [2 ** 53, -(2 ** 53), -1]],
    ['f32', 'F32', 4, (v, at, x) => v.setFloat32(at, x, true), [1.5, -0, 2 ** -149, 3.4028234663852886e38, NaN, Infinity]],
    ['i32', 'I32', 4, (v, at, x) => v.setInt32(at, x, true), [-(2 ** 31), 2 ** 31 - 1, -1]],
    ['f16', 'F16', 2, (v, at, x) => v.setUint16(at, x, true), [0x3c00, 0x8000, 0x0001, 0x7c00, 0x7e00]],
    ['bf16', 'BF16', 2, (v, at, x) => v.setUint16(at, x, true), [0x4049, 0x8000, 0x0001, 0xff80]],
    ['i16', 'I16', 2, (v, at, x) => v.setInt16(at, x, true), [-32768, 32767, -1]],
    ['i8', 'I8', 1, (v, at, x) => v.setInt8(at, x), [-128, 127, -1]],
    ['u8', 'U8', 1, (v, at, x) => v.setUint8(at, x), [0, 255, 128]],
  ];
  const expected: Record<string, number[] | bigint[]> = {
    f64: [Math.PI, -0, 5e-324, -Infinity, NaN],
    i64: [2n ** 53n, -(2n ** 53n), -1n],
    f32: [1.5, -0, 2 ** -149, 3.4028234663852886e38, NaN, Infinity],
    i32: [-(2 ** 31), 2 ** 31 - 1, -1],
    f16: [1, -0, 2 ** -24, Infinity, NaN],
    bf16: [3.140625, -0, 2 ** -133, -Infinity],
    i16: [-32768, 32767, -1],
    i8: [-128, 127, -1],
    u8: [0, 255, 128],
  };

  function everyDtypeFile(): Uint8Array {
    const header: Record<string, object> = {};
    let bytes = 0;
    for (const [name, dtype, size, , values] of layout) {
      header[name] = { dtype, shape: [values.length], data_offsets: [bytes, bytes + size * values.length] };
      bytes += size * values.length;
    }
    const text = JSON.stringify(header);
    const data = new DataView(new ArrayBuffer(bytes));
    for (const [name, , size, put, values] of layout) {
      const [begin] = (header[name] as { data_offsets: [number, number] }).data_offsets;
      values.forEach((x, i) => put(data, begin + size * i, x));
    }
    return rawFile(text.padEnd(Math.ceil(text.length / 8) * 8), new Uint8Array(data.buffer));
  }

  it('decodes every dtype the same at byteOffset 0 and at byteOffsets 1 to 7 of a larger buffer', () => {
    const bytes = everyDtypeFile();
    const aligned = readSafetensors(bytes);
    for (const [name] of layout) expect(Array.from(aligned.tensors[name].data as ArrayLike<unknown>)).toEqual(expected[name]);
    for (let shift = 1; shift < 8; shift++) {
      const backing = new Uint8Array(bytes.length + shift);
      backing.set(bytes, shift);
      expect(readSafetensors(backing.subarray(shift))).toEqual(aligned);
    }
  });

  it('returns tensors that own their memory, on the fast path too', () => {
    const bytes = everyDtypeFile();
    const file = readSafetensors(bytes);
    for (const { data } of Object.values(file.tensors)) {
      expect(data.buffer).not.toBe(bytes.buffer);
      expect(data.buffer.byteLength).toBe(data.byteLength);
    }
    bytes.fill(0);
    expect(floats(file.tensors.f32)[0]).toBe(1.5);
    expect(file.tensors.i64.data[0]).toBe(2n ** 53n);
  });
});

describe('16-bit float decoding against hand-computed bit patterns', () => {
  it('F16: normals, extremes, subnormals, signed zero, infinities, NaN', () => {
    const got = decode16('F16', [0x3c00, 0xc100, 0x7bff, 0x0400, 0x03ff, 0x0001, 0x0000, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0x7c01, 0xfe00]);
    expect(got).toEqual([1, -2.5, 65504, 2 ** -14, 1023 * 2 ** -24, 2 ** -24, 0, -0, Infinity, -Infinity, NaN, NaN, NaN]);
    expect(Object.is(got[7], -0)).toBe(true);
  });

  it('BF16: pi-ish, one, largest, smallest subnormal, signed zero, infinities, NaN', () => {
    const got = decode16('BF16', [0x4049, 0x3f80, 0xc020, 0x7f7f, 0x0001, 0x8000, 0x7f80, 0xff80, 0x7fc0, 0xffc1]);
    expect(got).toEqual([3.140625, 1, -2.5, (2 - 2 ** -7) * 2 ** 127, 2 ** -133, -0, Infinity, -Infinity, NaN, NaN]);
    expect(Object.is(got[5], -0)).toBe(true);
  });
});

describe('small integer dtypes', () => {
  it('widens I16, I8 and U8 to Int32Array', () => {
    const i16 = new Uint8Array(new Int16Array([-32768, 32767, -1]).buffer);
    const bytes = [...i16, 0x80, 0x7f, 0xff, 0x80, 0xff];
    const file = readSafetensors(
      rawFile(
        {
          a: { dtype: 'I16', shape: [3], data_offsets: [0, 6] },
          b: { dtype: 'I8', shape: [3], data_offsets: [6, 9] },
          c: { dtype: 'U8', shape: [2], data_offsets: [9, 11] },
        },
        bytes,
      ),
    );
    expect(file.tensors.a.data).toEqual(new Int32Array([-32768, 32767, -1]));
    expect(file.tensors.b.data).toEqual(new Int32Array([-128, 127, -1]));
    expect(file.tensors.c.data).toEqual(new Int32Array([128, 255]));
  });
});

describe('writeSafetensors', () => {
  const tensors: Record<string, Tensor | IntTensor> = {
    w32: { shape: [2, 2], data: new Float32Array([1.5, -0, Infinity, NaN]) },
    w64: { shape: [3], data: new Float64Array([Math.PI, 1e-300, -5e-324]) },
    len32: { shape: [2], data: new Int32Array([-2147483648, 7]) },
    len64: { shape: [2], data: new BigInt64Array([2n ** 63n - 1n, -3n]) },
    scalar: { shape: [], data: new Float32Array([0.25]) },
    empty: { shape: [2, 0], data: new Float64Array(0) },
  };

  it('round trips every dtype with float32 as the default float type', () => {
    const file = readSafetensors(writeSafetensors(tensors, { metadata: { framework: 'pt', note: 'ünïcode ✓' } }));
    expect(file.metadata).toEqual({ framework: 'pt', note: 'ünïcode ✓' });
    expect(file.dtypes).toEqual({ w32: 'F32', w64: 'F32', len32: 'I32', len64: 'I64', scalar: 'F32', empty: 'F32' });
    expect(floats(file.tensors.w32)).toEqual([1.5, -0, Infinity, NaN]);
    expect(floats(file.tensors.w64)).toEqual([Math.fround(Math.PI), 0, -0]); // rounded to float32
    expect(file.tensors.len32).toEqual(tensors.len32);
    expect(file.tensors.len64).toEqual(tensors.len64);
    expect(file.tensors.scalar).toEqual({ shape: [], data: new Float32Array([0.25]) });
    expect(file.tensors.empty).toEqual({ shape: [2, 0], data: new Float32Array(0) });
  });

  it("keeps float64 exactly with floatDtype: 'F64'", () => {
    const file = readSafetensors(writeSafetensors(tensors, { floatDtype: 'F64' }));
    expect(file.dtypes.w64).toBe('F64');
    expect(file.tensors.w64).toEqual(tensors.w64);
    expect(floats(file.tensors.w32)).toEqual([1.5, -0, Infinity, NaN]);
    expect(file.tensors.w32.data).toBeInstanceOf(Float64Array);
    expect(file.metadata).toEqual({});
  });

  it('lays tensors out by descending element size then name, each aligned, header padded to 8', () => {
    const bytes = writeSafetensors(tensors);
    const text = headerText(bytes);
    expect(text.length % 8).toBe(0);
    expect(text).toMatch(/^\{.*\} *$/);
    const header = JSON.parse(text) as Record<string, { dtype: string; data_offsets: [number, number] }>;
    const byOffset = Object.keys(header).sort(
      (a, b) => header[a].data_offsets[0] - header[b].data_offsets[0] || header[a].data_offsets[1] - header[b].data_offsets[1],
    );
    expect(byOffset).toEqual(['len64', 'empty', 'scalar', 'w32', 'w64', 'len32']);
    expect(Object.keys(header)).toEqual(byOffset); // header lists tensors in data order
    for (const {
      dtype,
      data_offsets: [begin],
    } of Object.values(header)) {
      expect(begin % { I64: 8, F64: 8, F32: 4, I32: 4 }[dtype as 'I64']!).toBe(0);
    }
  });

  it('is deterministic whatever the insertion order, and keeps integer-like names in order', () => {
    const a = { b: tensors.w32, '10': tensors.scalar, '9': tensors.scalar, a: tensors.w32 };
    const b = { '9': tensors.scalar, a: tensors.w32, '10': tensors.scalar, b: tensors.w32 };
    const bytes = writeSafetensors(a, { metadata: { z: '1', a: '2' } });
    expect(writeSafetensors(b, { metadata: { a: '2', z: '1' } })).toEqual(bytes);
    expect(headerText(bytes)).toMatch(/^\{"__metadata__":\{"a":"2","z":"1"\},"10":.*"9":.*"a":.*"b":/);
  });

  // Expected bytes from the reference implementation's own tests (safetensors/src/tensor.rs).
  it('matches the reference writer byte for byte', () => {
    const expected = (header: string, size: number, data: Uint8Array = new Uint8Array(0)) => {
      const out = rawFile(header, data, BigInt(size));
      expect(header.length).toBe(size);
      return out;
    };
    const attn = { shape: [1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) };
    expect(writeSafetensors({ 'attn.0': attn })).toEqual(
      expected('{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}', 64, new Uint8Array(attn.data.buffer)),
    );
    expect(writeSafetensors({})).toEqual(expected('{}      ', 8));
    expect(writeSafetensors({}, { metadata: { framework: 'pt' } })).toEqual(expected('{"__metadata__":{"framework":"pt"}}     ', 40));
  });

  it('rejects tensors it cannot write, naming them', () => {
    const f = (t: Record<string, unknown>) => () => writeSafetensors(t as Record<string, Tensor>);
    expect(f({ w: { shape: [2, 2], data: new Float32Array(3) } })).toThrow(invalid(/tensor "w": shape \[2, 2\] holds 4 elements, data has 3/));
    expect(f({ w: { shape: [-1], data: new Float32Array(0) } })).toThrow(invalid(/tensor "w": shape \[-1\] must hold non-negative integers/));
    expect(f({ w: { shape: [2], data: new Int16Array(2) } })).toThrow(invalid(/tensor "w": data must be a Float32Array/));
    expect(f({ __metadata__: tensors.w32 })).toThrow(invalid(/"__metadata__" is reserved/));
    expect(() => writeSafetensors({}, { metadata: { n: 1 as unknown as string } })).toThrow(invalid(/metadata "n" must be a string, got a number/));
  });

  it('rejects arguments of the wrong kind with an RnnError saying what was given', () => {
    const write = (tensors: unknown, options?: unknown) => () => writeSafetensors(tensors as Record<string, Tensor>, options as Record<string, never>);
    expect(write(null)).toThrow(invalid(/writeSafetensors: expected tensors as an object \{ name: \{ shape, data \} \}, got null/));
    expect(write([tensors.w32])).toThrow(invalid(/expected tensors as an object .*, got an array of 1/));
    expect(write({ w: null })).toThrow(invalid(/tensor "w": expected a tensor \{ shape, data \}, got null/));
    expect(write({ w: new Float32Array(2) })).toThrow(invalid(/tensor "w": expected a tensor .*, got a Float32Array of 2/));
    expect(write({ w: { shape: '2', data: new Float32Array(2) } })).toThrow(invalid(/tensor "w": shape "2" must hold non-negative integers/));
    expect(write({ w: { shape: [Symbol('d')], data: new Float32Array(1) } })).toThrow(invalid(/tensor "w": shape \[a Symbol\] must hold/));
    expect(write({ w: { shape: [2], data: [1, 2] } })).toThrow(invalid(/tensor "w": data must be a Float32Array, .*, got an array of 2/));
    expect(write({}, null)).toThrow(invalid(/writeSafetensors: expected options as an object, got null/));
    expect(write({}, { floatDtype: 16n })).toThrow(invalid(/floatDtype must be 'F32' or 'F64', got 16/));
    expect(write({}, { metadata: 'pt' })).toThrow(invalid(/metadata must be an object of strings, got "pt"/));
    expect(write({}, { metadata: new Map([['a', 'b']]) })).toThrow(invalid(/metadata must be an object of strings, got a Map/));
  });
});

describe('readSafetensors rejects malformed files with errors naming the problem', () => {
  const f32 = (shape: unknown, offsets: unknown) => ({ dtype: 'F32', shape, data_offsets: offsets });
  const read = (bytes: Uint8Array) => () => readSafetensors(bytes);

  it('rejects a truncated prefix or a header size past the file or the limit', () => {
    expect(read(new Uint8Array(5))).toThrow(invalid(/file is 5 bytes, shorter than the 8-byte header-size prefix/));
    expect(read(rawFile('{}', [], 100n))).toThrow(invalid(/header size 100 runs past the end of the 10-byte file/));
    expect(read(rawFile('{}', [], 2n ** 40n))).toThrow(invalid(/header size 1099511627776 exceeds the 100000000-byte limit/));
    expect(read(rawFile('{}', [], 2n ** 64n - 1n))).toThrow(invalid(/exceeds the 100000000-byte limit/));
  });

  it('rejects a header that is not UTF-8, not JSON or not an object', () => {
    const badUtf8 = rawFile('{}');
    badUtf8[8] = 0xff;
    expect(read(badUtf8)).toThrow(invalid(/header is not valid UTF-8/));
    expect(read(rawFile('{"w": '))).toThrow(invalid(/header is not valid JSON/));
    expect(read(rawFile('[]'))).toThrow(invalid(/header must be a JSON object, got an array/));
    expect(read(rawFile('null'))).toThrow(invalid(/header must be a JSON object, got null/));
  });

  it('rejects a bad __metadata__', () => {
    expect(read(rawFile({ __metadata__: ['x'] }))).toThrow(invalid(/__metadata__ must be an object, got an array/));
    expect(read(rawFile({ __metadata__: { epoch: 3 } }))).toThrow(invalid(/__metadata__ must map strings to strings; "epoch" holds a number/));
  });

  it('rejects an entry that is not an object or lacks a field', () => {
    expect(read(rawFile({ w: 'F32' }))).toThrow(invalid(/tensor "w": entry must be an object, got a string/));
    for (const field of ['dtype', 'shape', 'data_offsets']) {
      const entry: Record<string, unknown> = f32([1], [0, 4]);
      delete entry[field];
      expect(read(rawFile({ w: entry }, [0, 0, 0, 0]))).toThrow(invalid(`safetensors: tensor "w": entry lacks "${field}"`));
    }
  });

  it('rejects an unsupported dtype, naming tensor and dtype', () => {
    expect(read(rawFile({ w: { dtype: 'U32', shape: [1], data_offsets: [0, 4] } }, [0, 0, 0, 0]))).toThrow(
      invalid(/tensor "w": unsupported dtype "U32" \(supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8\)/),
    );
    expect(read(rawFile({ w: { dtype: 7, shape: [1], data_offsets: [0, 4] } }))).toThrow(invalid(/tensor "w": unsupported dtype 7/));
  });

  it('rejects negative, fractional or non-numeric dimensions', () => {
    expect(read(rawFile({ w: f32([2, -1], [0, 0]) }))).toThrow(invalid(/tensor "w": shape \[2,-1\] must be an array of non-negative integers/));
    expect(read(rawFile({ w: f32([1.5], [0, 0]) }))).toThrow(invalid(/tensor "w": shape \[1.5\] must be/));
    expect(read(rawFile({ w: f32(['2'], [0, 0]) }))).toThrow(invalid(/tensor "w": shape \["2"\] must be/));
    expect(read(rawFile({ w: f32(4, [0, 0]) }))).toThrow(invalid(/tensor "w": shape 4 must be/));
  });

  it('rejects malformed data_offsets', () => {
    const data = new Uint8Array(16);
    expect(read(rawFile({ w: f32([4], [0]) }, data))).toThrow(invalid(/tensor "w": data_offsets \[0\] must be two non-negative integers/));
    expect(read(rawFile({ w: f32([4], [-16, 0]) }, data))).toThrow(invalid(/tensor "w": data_offsets \[-16,0\] must be/));
    expect(read(rawFile({ w: f32([4], [0, 15.5]) }, data))).toThrow(invalid(/tensor "w": data_offsets \[0,15.5\] must be/));
    expect(read(rawFile({ w: f32([0], [16, 0]) }, data))).toThrow(invalid(/tensor "w": data_offsets \[16, 0\] end before they begin/));
  });

  it('rejects data_offsets that disagree with shape × dtype', () => {
    expect(read(rawFile({ w: f32([2, 2], [0, 12]) }, new Uint8Array(12)))).toThrow(
      invalid(/tensor "w": data_offsets \[0, 12\] span 12 bytes, but shape \[2, 2\] of F32 needs 16/),
    );
    // An astronomically large shape is caught by the same comparison, before any allocation.
    expect(read(rawFile({ w: f32([2 ** 40, 2 ** 40, 2 ** 40], [0, 16]) }, new Uint8Array(16)))).toThrow(
      invalid(/tensor "w": data_offsets \[0, 16\] span 16 bytes, but shape .* of F32 needs 5\.3\d*e\+36/),
    );
  });

  it('rejects offsets outside the data section without allocating for them', () => {
    expect(read(rawFile({ w: f32([4], [0, 16]) }, new Uint8Array(8)))).toThrow(invalid(/tensor "w": data_offsets \[0, 16\] run past the 8-byte data section/));
    expect(read(rawFile({ w: f32([2 ** 40], [0, 2 ** 42]) }, new Uint8Array(8)))).toThrow(invalid(/run past the 8-byte data section/));
  });

  it('rejects overlapping tensors, holes and trailing bytes', () => {
    const data = new Uint8Array(24);
    expect(read(rawFile({ b: f32([4], [8, 24]), a: f32([4], [0, 16]) }, data))).toThrow(invalid(/tensors "a" \[0, 16\] and "b" \[8, 24\] overlap/));
    expect(read(rawFile({ a: f32([2], [0, 8]), b: f32([2], [16, 24]) }, data))).toThrow(invalid(/bytes \[8, 16\) of the data section belong to no tensor/));
    expect(read(rawFile({ a: f32([4], [0, 16]) }, data))).toThrow(invalid(/bytes \[16, 24\) at the end of the data section belong to no tensor/));
  });

  it('rejects a key repeated within one object, which JSON.parse would silently drop', () => {
    const w = '"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}';
    expect(read(rawFile(`{${w},${w}}`, [0, 0, 0, 0]))).toThrow(invalid(/header repeats the key "w" within one object/));
    expect(read(rawFile(`{${w},"\\u0077":{}}`, [0, 0, 0, 0]))).toThrow(invalid(/header repeats the key "w"/)); // "\u0077" is "w"
    expect(read(rawFile('{"w":{"dtype":"F32","dtype":"I32","shape":[1],"data_offsets":[0,4]}}', [0, 0, 0, 0]))).toThrow(
      invalid(/header repeats the key "dtype" within one object/),
    );
    expect(read(rawFile('{"__metadata__":{"a":"1","a":"2"}}'))).toThrow(invalid(/header repeats the key "a"/));
    // Invalid JSON is reported as such first, even when it repeats a key.
    expect(read(rawFile(`{${w},${w}`, [0, 0, 0, 0]))).toThrow(invalid(/header is not valid JSON/));
  });

  it('rejects a byte-order mark before the header, as the reference implementation does', () => {
    expect(read(rawFile('\ufeff{}'))).toThrow(invalid(/header is not valid JSON/));
  });

  it('rejects nesting deeper than a header has before parsing it (no stack overflow)', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(read(rawFile(`{"w":{"dtype":${deep},"shape":[],"data_offsets":[0,0]}}`))).toThrow(
      invalid(/header nests deeper than 3 levels \(header → tensor entry → shape\)/),
    );
    expect(read(rawFile('{"w":{"dtype":"F32","shape":[[1]],"data_offsets":[0,4]}}', [0, 0, 0, 0]))).toThrow(invalid(/nests deeper than 3/));
    expect(read(rawFile('[[[[]]]]'))).toThrow(invalid(/nests deeper than 3/));
    // Brackets inside strings are text, not nesting.
    const file = readSafetensors(rawFile({ __metadata__: { note: '[[[[{{{{"' } }));
    expect(file.metadata).toEqual({ note: '[[[[{{{{"' });
  });

  it('keeps messages short whatever the file holds', () => {
    const long = 'n'.repeat(100_000);
    const error = (bytes: Uint8Array) => {
      try {
        readSafetensors(bytes);
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error('expected an error');
    };
    expect(error(rawFile({ [long]: f32([1], [0, 4]) }))).toMatch(/^safetensors: tensor "n{60}…": data_offsets \[0, 4\] run past/);
    expect(error(rawFile({ w: f32(new Array(100_000).fill(0.5), [0, 4]) }))).toBe(
      'safetensors: tensor "w": shape [0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,…] must be an array of non-negative integers',
    );
    expect(error(rawFile({ w: { dtype: long, shape: [], data_offsets: [0, 0] } })).length).toBeLessThan(200);
  });

  it('reads a JSON -0 dimension as 0, and a zero dimension beside huge ones as holding 0 elements', () => {
    const file = readSafetensors(rawFile('{"w":{"dtype":"F32","shape":[-0,3],"data_offsets":[0,0]}}'));
    expect(Object.is(file.tensors.w.shape[0], 0)).toBe(true);
    const huge = 2 ** 53 - 1;
    expect(read(rawFile({ w: f32([...new Array(20).fill(huge), 0], [0, 4]) }, [0, 0, 0, 0]))).toThrow(
      invalid(/span 4 bytes, but shape \[9007199254740991, (9007199254740991, ){7}…\] of F32 needs 0$/),
    ); // not NaN
  });

  it('rejects arguments that are not a Uint8Array, saying what to pass instead', () => {
    const given = (value: unknown) => () => readSafetensors(value as Uint8Array);
    const expected = "readSafetensors: expected the file's bytes as a Uint8Array, got";
    expect(given(new ArrayBuffer(12))).toThrow(invalid(`${expected} an ArrayBuffer of 12 bytes (wrap it: new Uint8Array(buffer))`));
    expect(given(new Float32Array(3))).toThrow(
      invalid(`${expected} a Float32Array of 3 (view its bytes: new Uint8Array(view.buffer, view.byteOffset, view.byteLength))`),
    );
    expect(given(new DataView(new ArrayBuffer(8)))).toThrow(invalid(`${expected} a DataView of 8 (view its bytes`));
    expect(given(null)).toThrow(invalid(`${expected} null`));
    expect(given(undefined)).toThrow(invalid(`${expected} undefined`));
    expect(given('model.safetensors')).toThrow(invalid(`${expected} "model.safetensors"`));
    expect(given([1, 2, 3])).toThrow(invalid(`${expected} an array of 3`));
    expect(given(new Proxy(new Uint8Array(16), {}))).toThrow(invalid(`${expected} a Uint8Array that is a Proxy or look-alike`));
    // A Node Buffer is a Uint8Array, typically at an offset into a shared pool.
    expect(readSafetensors(Buffer.from(rawFile({}))).tensors).toEqual({});
  });

  it('accepts header padding and keeps a tensor named __proto__ as an ordinary key', () => {
    const file = readSafetensors(rawFile('{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}   ', [0, 0, 0x80, 0x3f]));
    expect(Object.getPrototypeOf(file.tensors)).toBe(Object.prototype);
    expect(Object.keys(file.tensors)).toEqual(['__proto__']);
    // biome-ignore lint/complexity/useLiteralKeys lint/suspicious/noProto: file.tensors.__proto__ would read the prototype slot, not the key
    expect(floats(file.tensors['__proto__'])).toEqual([1]);
  });
});

describe('lengthsToInt32', () => {
  it('converts I32 (as a copy) and in-range I64', () => {
    const i32 = new Int32Array([3, 1]);
    const out = lengthsToInt32({ shape: [2], data: i32 });
    expect(out).toEqual(i32);
    expect(out).not.toBe(i32);
    expect(lengthsToInt32({ shape: [3], data: new BigInt64Array([5n, 2147483647n, -2147483648n]) })).toEqual(new Int32Array([5, 2147483647, -2147483648]));
  });

  it('rejects I64 values outside int32, naming the element', () => {
    expect(() => lengthsToInt32({ shape: [2], data: new BigInt64Array([1n, 2n ** 31n]) }, 'seq_lens')).toThrow(
      invalid(/seq_lens\[1\] = 2147483648 does not fit in int32/, 'TENSOR_INVALID'),
    );
    expect(() => lengthsToInt32({ shape: [1], data: new BigInt64Array([-(2n ** 31n) - 1n]) })).toThrow(
      invalid(/lengths\[0\] = -2147483649 does not fit in int32/, 'TENSOR_INVALID'),
    );
  });

  it('rejects lengths that are not integers', () => {
    expect(() => lengthsToInt32({ shape: [1], data: new Float32Array([2]) } as unknown as IntTensor)).toThrow(
      invalid(/lengths.data: expected an Int32Array or BigInt64Array, got a Float32Array of 1/, 'TENSOR_INVALID'),
    );
  });
});
