// The `webgpu-rnn` command end to end: the built CLI (bin/webgpu-rnn.js → dist/cli.js) run as a child
// process on PyTorch fixtures split into config.json / model.safetensors / io.safetensors.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../src/safetensors.js';
import type { IntTensor, Tensor } from '../src/tensor.js';
import { CPU_RTOL, GPU_RTOL, expectClose } from './support/compare.js';
import { type FixtureCase, loadFixture, loadManifest } from './support/fixtures.js';
import { loadNodeBytes } from './support/node-fixtures.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin/webgpu-rnn.js');
const manifest = await loadManifest(loadNodeBytes);
let dir = '';

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Writes a fixture as the three files a user would have; returns their paths. */
async function writeCase(meta: FixtureCase, tag: string) {
  const f = await loadFixture(loadNodeBytes, meta);
  const io: Record<string, Tensor | IntTensor> = { input: f.input };
  if (f.options.h0) io.h0 = f.options.h0;
  if (f.options.c0) io.c0 = f.options.c0;
  if (f.options.lengths) io.lengths = f.options.lengths as IntTensor;
  const paths = { config: join(dir, `${tag}.json`), weights: join(dir, `${tag}.model.safetensors`), inputs: join(dir, `${tag}.io.safetensors`), out: join(dir, `${tag}.out.safetensors`) };
  await writeFile(paths.config, JSON.stringify(meta.config));
  await writeFile(paths.weights, writeSafetensors(f.weights, { floatDtype: 'F64' }));
  await writeFile(paths.inputs, writeSafetensors(io, { floatDtype: 'F64' }));
  return { f, paths };
}

const argsOf = (p: { config: string; weights: string; inputs: string; out: string }) =>
  ['forward', '--config', p.config, '--weights', p.weights, '--inputs', p.inputs, '--out', p.out];

beforeAll(async () => {
  if (!existsSync(join(root, 'dist/cli.js'))) throw new Error('dist/cli.js is missing: run `npm run build` (scripts/test.sh does) before this test');
  dir = await mkdtemp(join(tmpdir(), 'webgpu-rnn-cli-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

// One case per mode, with the awkward options: bidirectional, projection, lengths, batch_first, h0/c0.
const picks = ['lstm_l2_bi_bf_proj3_h0_len', 'gru_l1_bi_nobias_h0_len', 'rnn_tanh_l2_bi_bf_h0', 'rnn_relu_l2_bi_h0_len'];
const cases = picks.map((p) => manifest.cases.find((c) => c.name.startsWith(p))!);

describe('webgpu-rnn forward (CLI)', () => {
  it.each(cases.flatMap((c) => (['webgpu', 'cpu'] as const).map((backend) => [c.name, backend, c] as const)))(
    '%s --backend %s reproduces PyTorch',
    async (name, backend, meta) => {
      const { f, paths } = await writeCase(meta, `${name}-${backend}`);
      const r = await run([...argsOf(paths), '--backend', backend]);
      expect(r.stderr.includes('webgpu-rnn:') ? r.stderr : '').toBe('');
      expect(r.code).toBe(0);
      const out = readSafetensors(new Uint8Array(await readFile(paths.out)));
      expect(Object.values(out.dtypes).every((d) => d === 'F32')).toBe(true);
      expect(out.metadata.backend).toBe(backend);
      // The file is F32, so even the float64 backend is judged at f32 storage precision.
      const rtol = backend === 'cpu' ? Math.max(CPU_RTOL, 1e-6) : GPU_RTOL;
      expectClose('output', out.tensors.output as Tensor, f.expected.output, rtol);
      expectClose('h_n', out.tensors.h_n as Tensor, f.expected.h_n, rtol);
      if (f.expected.c_n) expectClose('c_n', out.tensors.c_n as Tensor, f.expected.c_n, rtol);
      else expect(out.tensors.c_n).toBeUndefined();
    },
  );

  it('prints usage with --help and exits 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/webgpu-rnn forward --config/);
  });

  it('rejects an unknown option with usage and exit code 2', async () => {
    const r = await run(['forward', '--conf', 'x.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option "--conf"/);
  });

  it('names an unknown config key', async () => {
    const { paths } = await writeCase(cases[1], 'badkey');
    await writeFile(paths.config, JSON.stringify({ ...cases[1].config, hidden: 3 }));
    const r = await run(argsOf(paths));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown key\(s\) "hidden"/);
  });

  it('names a missing weight tensor and its expected shape', async () => {
    const { f, paths } = await writeCase(cases[1], 'missing');
    const weights = { ...f.weights };
    delete weights.weight_hh_l0_reverse;
    await writeFile(paths.weights, writeSafetensors(weights));
    const r = await run(argsOf(paths));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/missing tensor weight_hh_l0_reverse \(expected shape \[9, 3\]\)/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // a user error, not a stack trace
  });

  it('names a mis-shaped input', async () => {
    const { paths } = await writeCase(cases[1], 'badinput');
    await writeFile(paths.inputs, writeSafetensors({ input: { shape: [6, 5, 4], data: new Float32Array(120) } }));
    const r = await run(argsOf(paths));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/input: last dimension must be input_size=5, got shape \[6, 5, 4\]/);
  });
});
