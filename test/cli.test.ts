// The `webgpu-rnn` command end to end: the built CLI (bin/webgpu-rnn.js → dist/cli.js) run as a child
// process on PyTorch fixtures split into config.json / model.safetensors / io.safetensors.
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RnnErrorCode } from '../src/errors.js';
import { readSafetensors, writeSafetensors } from '../src/safetensors.js';
import type { IntTensor, Tensor } from '../src/tensor.js';
import { CPU_RTOL, GPU_RTOL, expectClose } from './support/compare.js';
import { type FixtureCase, loadFixture, loadManifest } from './support/fixtures.js';
import { loadNodeBytes } from './support/node-fixtures.js';
import { expectUserError, runCli } from './support/cli.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const manifest = await loadManifest(loadNodeBytes);
let dir = '';

/** Writes a fixture as the three files a user would have; returns their paths. */
async function writeCase(meta: FixtureCase, tag: string) {
  const f = await loadFixture(loadNodeBytes, meta);
  const io: Record<string, Tensor | IntTensor> = { input: f.input };
  if (f.options.h0) io.h0 = f.options.h0;
  if (f.options.c0) io.c0 = f.options.c0;
  if (f.options.lengths) io.lengths = f.options.lengths as IntTensor;
  const paths = {
    config: join(dir, `${tag}.json`),
    weights: join(dir, `${tag}.model.safetensors`),
    inputs: join(dir, `${tag}.io.safetensors`),
    out: join(dir, `${tag}.out.safetensors`),
  };
  await writeFile(paths.config, JSON.stringify(meta.config));
  await writeFile(paths.weights, writeSafetensors(f.weights, { floatDtype: 'F64' }));
  await writeFile(paths.inputs, writeSafetensors(io, { floatDtype: 'F64' }));
  return { f, paths };
}

const argsOf = (p: { config: string; weights: string; inputs: string; out: string }) => [
  'forward',
  '--config',
  p.config,
  '--weights',
  p.weights,
  '--inputs',
  p.inputs,
  '--out',
  p.out,
];

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
      const r = await runCli([...argsOf(paths), '--backend', backend]);
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

  it("takes a parent module's state_dict with --prefix, and says so when it is missing", async () => {
    const { f, paths } = await writeCase(cases[1], 'prefix');
    const parent = {
      ...Object.fromEntries(Object.entries(f.weights).map(([k, v]) => [`encoder.rnn.${k}`, v])),
      'head.weight': { shape: [2, 6], data: new Float64Array(12) },
    };
    await writeFile(paths.weights, writeSafetensors(parent, { floatDtype: 'F64' }));
    const without = await runCli([...argsOf(paths), '--backend', 'cpu']);
    expect(without.code).toBe(1);
    expect(without.stderr).toMatch(
      /hint: the tensors under "encoder\.rnn\." match this configuration .*\(CLI: --prefix encoder\.rnn\.\) to take only those \[WEIGHTS_INVALID\]$/m,
    );
    const r = await runCli([...argsOf(paths), '--backend', 'cpu', '--prefix', 'encoder.rnn.']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const out = readSafetensors(new Uint8Array(await readFile(paths.out)));
    expectClose('output', out.tensors.output as Tensor, f.expected.output, 1e-6);
  });

  it('prints usage with --help and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/webgpu-rnn forward --config/);
  });

  it('rejects an unknown option with usage and exit code 2', async () => {
    const r = await runCli(['forward', '--conf', 'x.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option "--conf"/);
  });

  it('names an unknown config key', async () => {
    const { paths } = await writeCase(cases[1], 'badkey');
    await writeFile(paths.config, JSON.stringify({ ...cases[1].config, hidden: 3 }));
    const r = await runCli(argsOf(paths));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown key\(s\) "hidden"/);
  });

  it('names a missing weight tensor and its expected shape', async () => {
    const { f, paths } = await writeCase(cases[1], 'missing');
    const weights = { ...f.weights };
    delete weights.weight_hh_l0_reverse;
    await writeFile(paths.weights, writeSafetensors(weights));
    const r = await runCli(argsOf(paths));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/missing tensor weight_hh_l0_reverse \(expected shape \[9, 3\]\)/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // a user error, not a stack trace
  });

  it('names a mis-shaped input', async () => {
    const { paths } = await writeCase(cases[1], 'badinput');
    await writeFile(paths.inputs, writeSafetensors({ input: { shape: [6, 5, 4], data: new Float32Array(120) } }));
    const r = await runCli(argsOf(paths));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/input: last dimension must be input_size=5, got shape \[6, 5, 4\]/);
  });
});

type Paths = { config: string; weights: string; inputs: string; out: string };

describe('webgpu-rnn forward (CLI): user mistakes are one line with a code, never a stack', () => {
  // A GRU (input_size 5, hidden 3, bidirectional, no bias) whose files are valid; each call below spoils one thing.
  const meta = () => cases[1];
  let good: Paths;
  let bad: Record<string, string>;
  let T = 0;
  let B = 0;

  beforeAll(async () => {
    const written = await writeCase(meta(), 'bad-base');
    good = written.paths;
    [T, B] = written.f.input.shape;
    const input = written.f.input;
    const file = (name: string) => join(dir, name);
    bad = {
      folder: file('a-folder'),
      notJson: file('not-json.json'),
      unknownKey: file('unknown-key.json'),
      arrayConfig: file('array.json'),
      badValue: file('bad-value.json'),
      empty: file('empty.safetensors'),
      noInput: file('no-input.safetensors'),
      extraTensor: file('extra-tensor.safetensors'),
      intInput: file('int-input.safetensors'),
      floatLengths: file('float-lengths.safetensors'),
      misShaped: file('mis-shaped.safetensors'),
      longLengths: file('long-lengths.safetensors'),
      missingWeight: file('missing-weight.safetensors'),
      intWeight: file('int-weight.safetensors'),
    };
    await mkdir(bad.folder);
    await writeFile(bad.notJson, '{"mode": "GRU",');
    await writeFile(bad.unknownKey, JSON.stringify({ ...meta().config, hidden: 3 }));
    await writeFile(bad.arrayConfig, '[1, 2]');
    await writeFile(bad.badValue, JSON.stringify({ ...meta().config, hidden_size: 0 }));
    await writeFile(bad.empty, '');
    await writeFile(bad.noInput, writeSafetensors({ h0: written.f.options.h0! }));
    await writeFile(bad.extraTensor, writeSafetensors({ input, extra: { shape: [1], data: new Float32Array(1) } }));
    await writeFile(bad.intInput, writeSafetensors({ input: { shape: input.shape, data: new Int32Array(input.data.length) } }));
    await writeFile(bad.floatLengths, writeSafetensors({ input, lengths: { shape: [B], data: new Float32Array(B).fill(1) } }));
    await writeFile(bad.misShaped, writeSafetensors({ input: { shape: [6, 5, 4], data: new Float32Array(120) } }));
    await writeFile(bad.longLengths, writeSafetensors({ input, lengths: { shape: [B], data: new Int32Array(B).fill(T + 1) } }));
    const weights = { ...written.f.weights };
    delete weights.weight_hh_l0_reverse;
    await writeFile(bad.missingWeight, writeSafetensors(weights));
    const w = written.f.weights.weight_ih_l0;
    await writeFile(
      bad.intWeight,
      writeSafetensors({ ...written.f.weights, weight_ih_l0: { shape: w.shape, data: new Int32Array(w.data.length) } as IntTensor }),
    );
  });

  /** The good files' arguments with some replaced (undefined: left out), on the CPU backend. */
  const forward = (p: Partial<Record<keyof Paths, string>>, out: string): string[] => {
    const paths: Record<string, string | undefined> = { ...good, out, ...p };
    return ['forward', ...Object.entries(paths).flatMap(([k, v]) => (v === undefined ? [] : [`--${k}`, v])), '--backend', 'cpu'];
  };
  const nowhere = () => join(dir, 'no', 'such', 'dir', 'out.safetensors');

  // [what, arguments given the --out path this call must not create, code, message]
  const calls: [string, (out: string) => string[], RnnErrorCode, RegExp][] = [
    [
      'unknown command',
      (out) => ['frob', ...forward({}, out).slice(1)],
      'USAGE',
      /unknown command "frob" \(expected one of forward, grad, train, gradcheck, decode, sample, onnx, export-onnx\)/,
    ],
    [
      'no command',
      (out) => forward({}, out).slice(1),
      'USAGE',
      /missing command \(expected one of forward, grad, train, gradcheck, decode, sample, onnx, export-onnx\)/,
    ],
    ['unknown option', (out) => [...forward({}, out), '--conf', 'x.json'], 'USAGE', /unknown option "--conf"/],
    ['unknown option, --x=value form', (out) => [...forward({}, out), '--conf=x.json'], 'USAGE', /unknown option "--conf"/],
    ['unknown short option', (out) => [...forward({}, out), '-x'], 'USAGE', /unknown option "-x"/],
    ['option without a value at the end', (out) => [...forward({ out: undefined }, out), '--out'], 'USAGE', /--out needs a value/],
    ['option followed by another option', (out) => ['forward', '--config', ...forward({ config: undefined }, out).slice(1)], 'USAGE', /--config needs a value/],
    ['--config= (empty value)', (out) => [...forward({ config: undefined }, out), '--config='], 'USAGE', /--config needs a value/],
    ['--backend= (empty value)', (out) => [...forward({}, out), '--backend='], 'USAGE', /--backend needs a value/],
    ['missing --config', (out) => forward({ config: undefined }, out), 'USAGE', /missing --config/],
    ['missing --weights', (out) => forward({ weights: undefined }, out), 'USAGE', /missing --weights/],
    ['missing --inputs', (out) => forward({ inputs: undefined }, out), 'USAGE', /missing --inputs/],
    ['missing --out', (out) => forward({ out: undefined }, out).filter((a) => a !== out), 'USAGE', /missing --out/],
    ['bad --backend', (out) => [...forward({}, out), '--backend', 'gpu'], 'USAGE', /--backend must be webgpu or cpu, got "gpu"/],
    ['bad --backend=value', (out) => [...forward({}, out), '--backend=metal'], 'USAGE', /--backend must be webgpu or cpu, got "metal"/],
    ['a stray argument', (out) => [...forward({}, out), 'extra'], 'USAGE', /unexpected argument "extra"/],
    ['missing --config file', (out) => forward({ config: join(dir, 'nope.json') }, out), 'FILE', /--config \S+nope\.json: no such file/],
    ['missing --weights file', (out) => forward({ weights: join(dir, 'nope.safetensors') }, out), 'FILE', /--weights \S+nope\.safetensors: no such file/],
    ['missing --inputs file', (out) => forward({ inputs: join(dir, 'nope.safetensors') }, out), 'FILE', /--inputs \S+nope\.safetensors: no such file/],
    ['a directory as --config', (out) => forward({ config: bad.folder }, out), 'FILE', /--config \S+a-folder: is a directory, expected a JSON file/],
    ['a directory as --weights', (out) => forward({ weights: bad.folder }, out), 'FILE', /--weights \S+a-folder: is a directory, expected a safetensors file/],
    ['a directory as --inputs', (out) => forward({ inputs: bad.folder }, out), 'FILE', /--inputs \S+a-folder: is a directory, expected a safetensors file/],
    ['a directory as --out', () => forward({}, bad.folder), 'FILE', /--out \S+a-folder: is a directory, expected a file to write/],
    [
      'a missing output folder',
      () => forward({}, nowhere()),
      'FILE',
      /--out \S+\/no\/such\/dir\/out\.safetensors: folder \S+\/no\/such\/dir does not exist \[/,
    ],
    [
      'a missing output folder, checked before the model is built',
      () => forward({ weights: bad.missingWeight }, nowhere()),
      'FILE',
      /folder \S+ does not exist/,
    ],
    ['a file as the output folder', () => forward({}, join(good.config, 'out.safetensors')), 'FILE', /--out \S+: \S+\.json is not a folder/],
    ['a config that is not JSON', (out) => forward({ config: bad.notJson }, out), 'CONFIG_INVALID', /--config \S+not-json\.json: not valid JSON/],
    ['a config with an unknown key', (out) => forward({ config: bad.unknownKey }, out), 'CONFIG_INVALID', /unknown key\(s\) "hidden"/],
    ['a config that is not an object', (out) => forward({ config: bad.arrayConfig }, out), 'CONFIG_INVALID', /config: expected an object/],
    [
      'a config value PyTorch rejects',
      (out) => forward({ config: bad.badValue }, out),
      'CONFIG_INVALID',
      /config\.hidden_size: expected a positive integer, got 0/,
    ],
    ['weights that are not safetensors', (out) => forward({ weights: good.config }, out), 'SAFETENSORS_INVALID', /--weights \S+\.json: /],
    ['an empty inputs file', (out) => forward({ inputs: bad.empty }, out), 'SAFETENSORS_INVALID', /--inputs \S+empty\.safetensors: /],
    ['inputs without "input"', (out) => forward({ inputs: bad.noInput }, out), 'TENSOR_INVALID', /--inputs \S+: missing tensor "input"/],
    [
      'inputs with an unexpected tensor',
      (out) => forward({ inputs: bad.extraTensor }, out),
      'TENSOR_INVALID',
      /unexpected tensor\(s\) extra \(expected input, h0, c0, lengths\)/,
    ],
    ['an integer "input"', (out) => forward({ inputs: bad.intInput }, out), 'TENSOR_INVALID', /tensor input must be floating point/],
    ['float "lengths"', (out) => forward({ inputs: bad.floatLengths }, out), 'TENSOR_INVALID', /tensor lengths must be I32 or I64/],
    [
      'a mis-shaped input',
      (out) => forward({ inputs: bad.misShaped }, out),
      'TENSOR_INVALID',
      /input: last dimension must be input_size=5, got shape \[6, 5, 4\]/,
    ],
    [
      'lengths longer than the sequence',
      (out) => forward({ inputs: bad.longLengths }, out),
      'TENSOR_INVALID',
      /lengths\[0\] = \d+: each length must be an integer in \[1, T=\d+\]/,
    ],
    [
      'a missing weight tensor (a list of problems, on one line)',
      (out) => forward({ weights: bad.missingWeight }, out),
      'WEIGHTS_INVALID',
      /missing tensor weight_hh_l0_reverse \(expected shape \[9, 3\]\)/,
    ],
    ['an integer weight tensor', (out) => forward({ weights: bad.intWeight }, out), 'WEIGHTS_INVALID', /weight_ih_l0: weights must be floating point/],
  ];

  it.each(calls.map(([what, args, code, message], i) => [what, i, args, code, message] as const))('%s', async (_what, i, args, code, message) => {
    const out = join(dir, `bad-${i}.out.safetensors`);
    expectUserError(await runCli(args(out)), code, message, out);
  });

  it.skipIf(process.getuid?.() === 0)('an unreadable file and an unwritable folder (not as root)', async () => {
    const locked = join(dir, 'locked.safetensors');
    await writeFile(locked, await readFile(good.weights));
    await chmod(locked, 0o000);
    const out = join(dir, 'locked-out.safetensors');
    expectUserError(await runCli(forward({ weights: locked }, out)), 'FILE', /--weights \S+locked\.safetensors: permission denied/, out);
    const shut = join(dir, 'shut');
    await mkdir(shut, { mode: 0o500 });
    const shutOut = join(shut, 'out.safetensors');
    expectUserError(await runCli(forward({}, shutOut)), 'FILE', /--out \S+: folder \S+shut is not writable/, shutOut);
  });

  it('--flag=value and --flag value give the same file', async () => {
    const spaced = join(dir, 'spaced.out.safetensors');
    const inline = join(dir, 'inline.out.safetensors');
    const a = await runCli(forward({}, spaced));
    const b = await runCli(['forward', ...Object.entries({ ...good, out: inline }).map(([k, v]) => `--${k}=${v}`), '--backend=cpu']);
    expect([a.code, a.stderr, b.code, b.stderr]).toEqual([0, '', 0, '']);
    expect(Buffer.compare(await readFile(spaced), await readFile(inline))).toBe(0);
  });
});
