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
export type { SafetensorsDtype, SafetensorsFile, WriteSafetensorsOptions } from './safetensors/types.js';
export { readSafetensors } from './safetensors/read.js';
export { writeSafetensors } from './safetensors/write.js';
export { isIntTensor, lengthsToInt32 } from './safetensors/int-tensors.js';
