// The ONNX codec: the committed static code (src/onnx/proto/onnx-proto.js) is what protobufjs-cli
// generates from onnx.proto today, and the built library holds no runtime code generation (eval, new
// Function) — what lets a page with a strict Content-Security-Policy load ONNX files (the package
// test loads one under such a policy in Chromium). Plus a round trip of every field kind the loader
// reads, through encode and decode.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AttributeType, DataType, type OnnxAttributeProto, decodeModel, decodeTensor, encodeModel } from '../../src/onnx/schema.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('the ONNX codec', () => {
  it('is the code protobufjs-cli generates from onnx.proto (npm run generate:onnx)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'webgpu-rnn-proto-'));
    try {
      const fresh = join(dir, 'onnx-proto.js');
      execFileSync(process.execPath, [join(root, 'scripts/generate-onnx-proto.mjs'), fresh]);
      expect(readFileSync(fresh, 'utf8')).toBe(readFileSync(join(root, 'src/onnx/proto/onnx-proto.js'), 'utf8'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the built library evaluates no strings as code', () => {
    if (!existsSync(join(root, 'dist/index.js'))) throw new Error('dist/ is missing: run `npm run build` (scripts/test.sh does) first');
    const offenders = readdirSync(join(root, 'dist'))
      .filter((f) => f.endsWith('.js'))
      .filter((f) => /\beval\s*\(|new Function\s*\(|\bFunction\s*\(/.test(readFileSync(join(root, 'dist', f), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('round-trips a model: opset, metadata, value infos with symbolic and fixed dims, every attribute kind, tensors', async () => {
    const utf8 = (s: string) => new TextEncoder().encode(s);
    const raw = new Uint8Array(new Float32Array([1.5, -2]).buffer);
    const bytes = await encodeModel({
      ir_version: 8,
      producer_name: 'test',
      opset_import: [{ domain: '', version: 17 }],
      metadata_props: [{ key: 'k', value: 'v' }],
      graph: {
        name: 'g',
        input: [{ name: 'x', type: { tensor_type: { elem_type: DataType.FLOAT, shape: { dim: [{ dim_param: 'seq' }, { dim_value: 3 }] } } } }],
        output: [{ name: 'y', type: { tensor_type: { elem_type: DataType.FLOAT } } }],
        initializer: [
          { name: 'w', dims: [2], data_type: DataType.FLOAT, raw_data: raw },
          { name: 'big', dims: [1], data_type: DataType.INT64, int64_data: [2 ** 40 + 3] },
        ],
        node: [
          {
            op_type: 'LSTM',
            name: 'n',
            input: ['x', 'w', ''],
            output: ['y'],
            attribute: [
              { name: 'hidden_size', type: AttributeType.INT, i: 5 },
              { name: 'clip', type: AttributeType.FLOAT, f: 0.5 },
              { name: 'direction', type: AttributeType.STRING, s: utf8('reverse') },
              { name: 'activations', type: AttributeType.STRINGS, strings: [utf8('Tanh'), utf8('Relu')] },
              { name: 'activation_alpha', type: AttributeType.FLOATS, floats: [0.25, 2] },
              { name: 'perm', type: AttributeType.INTS, ints: [1, 0, -1] },
              { name: 'value', type: AttributeType.TENSOR, t: { dims: [1], data_type: DataType.DOUBLE, double_data: [0.1] } },
            ],
          },
        ],
      },
    });
    const m = await decodeModel(bytes);
    expect(m.ir_version).toBe(8);
    expect(m.opset_import).toEqual([{ domain: '', version: 17 }]);
    expect(m.metadata_props).toEqual([{ key: 'k', value: 'v' }]);
    expect(m.graph!.input![0].type!.tensor_type!.shape!.dim).toEqual([{ dim_param: 'seq' }, { dim_value: 3 }]);
    expect(m.graph!.initializer![0]).toMatchObject({ name: 'w', dims: [2], data_type: DataType.FLOAT });
    expect(Array.from(m.graph!.initializer![0].raw_data!)).toEqual(Array.from(raw));
    expect(m.graph!.initializer![1].int64_data).toEqual([2 ** 40 + 3]); // int64 as an exact number
    const attrs: Record<string, OnnxAttributeProto> = Object.fromEntries(m.graph!.node![0].attribute!.map((a) => [a.name ?? '', a]));
    expect(attrs.hidden_size.i).toBe(5);
    expect(attrs.clip.f).toBe(0.5);
    expect(new TextDecoder().decode(attrs.direction.s)).toBe('reverse');
    expect(attrs.activations.strings!.map((s) => new TextDecoder().decode(s))).toEqual(['Tanh', 'Relu']);
    expect(attrs.activation_alpha.floats).toEqual([0.25, 2]);
    expect(attrs.perm.ints).toEqual([1, 0, -1]);
    expect(attrs.value.t).toMatchObject({ dims: [1], data_type: DataType.DOUBLE, double_data: [0.1] });
    expect(m.graph!.node![0].input).toEqual(['x', 'w', '']);
  });

  it('malformed bytes are an error, not a silent empty model', async () => {
    await expect(decodeModel(Uint8Array.of(0x0a, 0xff, 0xff))).rejects.toThrow();
    await expect(decodeTensor(Uint8Array.of(0x08))).rejects.toThrow();
  });
});
