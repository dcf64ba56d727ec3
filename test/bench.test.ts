// The benchmark end to end on its tiny CI shape, every system, in Node and (through the CLI) in
// headless Chromium. No timing assertions: it must run, validate, and report complete rows.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ceilingGemmShape, readAgainstCeiling, timeAgainstCeiling, timeGemmShape } from '../src/bench/ceilings.js';
import { formatGemmCensus, gemmBound, gemmTraffic } from '../src/bench/gemm-census.js';
import { childArgv, parseBenchArgs } from '../src/bench/cli.js';
import { type BenchRow, formatTable, runBench } from '../src/bench/run.js';
import { BIG_SHAPES, SHAPES, TINY_SHAPE } from '../src/bench/shapes.js';
import { TINY_SEQ2SEQ_TRAIN_SHAPE, TINY_TRAIN_SHAPE, TRAIN_SHAPES, trainStepGflop } from '../src/bench/train-shapes.js';
import { RnnError } from '../src/errors.js';
import { contextFor } from '../src/gpu/device.js';
import type { GemmShape } from '../src/gpu/ops/gemm.js';

const SYSTEMS = ['webgpu-rnn', 'webgpu-rnn-onnx', 'tfjs-webgpu', 'ort-webgpu', 'cpu-reference'] as const;

function checkRows(rows: BenchRow[], systems: readonly string[] = SYSTEMS): void {
  expect(rows.map((r) => r.system)).toEqual([...systems]);
  for (const r of rows) {
    expect(r.error, `${r.system}: ${r.error}`).toBeUndefined();
    expect(r.shape).toBe('tiny');
    expect(r.median_ms).toBeGreaterThan(0);
    expect(r.min_ms).toBeLessThanOrEqual(r.median_ms!);
    expect(r.gflop).toBeCloseTo((2 * 4 * 8 * (4 + 8) * 2 * 5) / 1e9, 12);
    expect(r.max_rel_err).toBeLessThan(1e-4); // tiny is an LSTM: every system runs PyTorch's equations
    expect(r.dispatches).not.toBeNull();
  }
  const ours = rows.find((r) => r.system === 'webgpu-rnn')!;
  expect(ours.dispatches).toBe(2); // persistent: input matmul + the time loop
  expect(ours.gpu_bytes).toBeGreaterThan(0);
}

const root = fileURLToPath(new URL('..', import.meta.url));

/** Runs the built benchmark command (`npm run bench`'s dist-bench/bench.js) with `args` plus --json; returns its stdout and rows. */
async function cliBench(args: string[]): Promise<{ output: string; rows: BenchRow[] }> {
  if (!existsSync(join(root, 'dist-bench/bench.js'))) throw new Error('dist-bench/bench.js is missing: run `npm run build:bench` first');
  const dir = await mkdtemp(join(tmpdir(), 'webgpu-rnn-bench-'));
  try {
    const json = join(dir, 'rows.json');
    const output = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [join(root, 'dist-bench/bench.js'), ...args, '--json', json], { timeout: 240_000 }, (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stdout}\n${stderr}`)) : resolve(stdout),
      );
    });
    return { output, rows: JSON.parse(await readFile(json, 'utf8')) as BenchRow[] };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('benchmark (tiny shape)', () => {
  it('runs every system in Node and reports validated rows', async () => {
    const lines: string[] = [];
    const report = await runBench({
      shapes: [TINY_SHAPE],
      systems: SYSTEMS,
      runs: 2,
      warmup: 1,
      runtime: 'node (test)',
      ceilingScale: 0.125,
      log: (l) => lines.push(l),
    });
    checkRows(report.rows);
    expect(report.ceilings!.gemm_gflops).toBeGreaterThan(0);
    expect(report.ceilings!.empty_dispatch_us).toBeGreaterThan(0);
    // A line per operand layout the training plans use, with its share of the ceiling.
    expect(report.ceilings!.gemm_layouts.map((l) => l.layout.split(' (')[0])).toEqual(['NN + bias', 'NT', 'NT + β·C', 'TN', 'NN, M = 1']);
    // Each timed beside the ceiling GEMM (its fraction from those rounds, not from the ceiling measured before).
    for (const l of report.ceilings!.gemm_layouts) expect(l.gflops > 0 && l.fraction > 0 && Number.isFinite(l.fraction), l.layout).toBe(true);
    expect(lines.join('\n')).toMatch(/^ {2}GEMM TN \(weight gradient\) +\d+×\d+·\d+×\d+ +[\d.]+ GFLOP\/s \(\d+% of the ceiling, interleaved\)$/m);
    // The bias gradient (M = 1) is bound by its loads: also judged against the adapter's read rate.
    expect(report.ceilings!.read_gbps).toBeGreaterThan(0);
    // What a GEMM's C costs: the adapter's write rate; a software adapter adds it to the arithmetic.
    expect(report.ceilings!.write_gbps).toBeGreaterThan(0);
    expect(report.ceilings!.serial).toBe(true);
    const oneRow = report.ceilings!.gemm_layouts.find((l) => l.layout.startsWith('NN, M = 1'))!;
    expect(oneRow.read!.gbps > 0 && Math.abs(oneRow.read!.fraction - oneRow.read!.gbps / report.ceilings!.read_gbps) < 1e-9).toBe(true);
    expect(report.ceilings!.gemm_layouts.filter((l) => l.read).length).toBe(1);
    expect(lines.join('\n')).toMatch(
      /^ceilings: GEMM [\d.]+ GFLOP\/s \(.*\); read [\d.]+ GB\/s, write [\d.]+ GB\/s \(a software adapter: a GEMM's writes add to its arithmetic\); empty dispatch/m,
    );
    expect(lines.join('\n')).toMatch(
      /^ {2}GEMM NN, M = 1 \(bias gradient\) .*% of the ceiling, interleaved; bound by its loads: [\d.]+ GB\/s read, \d+% of the read rate\)$/m,
    );
    expect(formatTable(report)).toMatch(/tiny\s+tfjs-webgpu/);
    // The ONNX row: the same file through loadOnnx and through ONNX Runtime Web, and their ratio.
    expect(report.rows.find((r) => r.system === 'webgpu-rnn-onnx')!.note).toMatch(/the ort-webgpu file through loadOnnx: 1 recurrent node on the engine/);
    expect(formatTable(report)).toMatch(/^onnx tiny: the same \.onnx file, ort-webgpu [\d.]+ ms \/ loadOnnx [\d.]+ ms = [\d.]+×$/m);
  });

  it("training rows: every training system validates its first step's loss and reports a step time", async () => {
    const lines: string[] = [];
    const systems = ['webgpu-rnn', 'webgpu-rnn-forward', 'webgpu-rnn-onnx', 'tfjs-webgpu', 'ort-webgpu', 'pytorch-cpu', 'cpu-reference'] as const;
    const report = await runBench({
      shapes: [TINY_TRAIN_SHAPE],
      systems,
      runs: 2,
      warmup: 1,
      runtime: 'node (test)',
      ceilings: false,
      ceilingScale: 0.125,
      log: (l) => lines.push(l),
    });
    // ONNX files are inference only, and ONNX Runtime Web trains no recurrent networks: no rows.
    expect(report.rows.map((r) => r.system)).toEqual(['webgpu-rnn', 'webgpu-rnn-forward', 'tfjs-webgpu', 'pytorch-cpu', 'cpu-reference']);
    for (const r of report.rows) {
      // PyTorch is optional (Python with torch; the set-up script does not install it).
      if (r.system === 'pytorch-cpu' && r.error) {
        expect(r.error).toMatch(/pytorch-cpu: .*(torch|python|No such file)/i);
        continue;
      }
      expect(r.error, `${r.system}: ${r.error}`).toBeUndefined();
      expect(r.shape).toBe('train-tiny');
      expect(r.median_ms).toBeGreaterThan(0);
      expect(r.max_rel_err).toBeLessThan(1e-5); // the first step's loss vs the float64 trainer's (an LSTM: every system's equations)
    }
    const [ours, forward] = report.rows;
    // 2·G·H·(I + H)·B·T + 2·rows·H·O, three times: 3 · (2·4·8·12·10 + 2·10·8·7)
    expect(ours.gflop).toBeCloseTo((3 * (2 * 4 * 8 * 12 * 10 + 2 * 10 * 8 * 7)) / 1e9, 12);
    expect(ours.gflop).toBeCloseTo(trainStepGflop(TINY_TRAIN_SHAPE), 15);
    expect(forward.gflop).toBeCloseTo(ours.gflop / 3, 15);
    expect(ours.note).toMatch(
      /^step = \d+\.\d\d× our forward \+ loss \(minima \d+\.\d\d×\); \d+ dispatches per step \(per layer: \d+; T = 5\); activations [\d.]+ MiB = [\d.]+× the least/,
    );
    expect(ours.dispatches).toBeGreaterThan(0);
    expect(ours.gpu_bytes).toBeGreaterThan(0);
    expect(formatTable(report)).toMatch(/train-tiny\s+tfjs-webgpu .* \d+\.\d×/);
    // Every GEMM of the step, from the plan, each timed alone. By hand for this model (rows T·B = 10, I 4,
    // 4H = 32, head 8 → 7): the input projection and the head's forward; the head's dW, db, dX; the
    // LSTM's dW_hh, its bias gradient (db_ih is the same sum, copied), dW_ih and dX (to the embedding).
    const census = ours.gemm_census!;
    expect(census.entries.map((e) => [e.label, e.layout, e.shape, e.calls])).toEqual([
      ['rnn.layer0.inputProjection', 'NN + bias', '10×4·4×32', 1],
      ['head.forward', 'NT + bias', '10×8·8×7', 1],
      ['head.dW', 'TN', '7×10·10×8', 1],
      ['head.db', 'NN, M = 1', '1×10·10×7', 1],
      ['head.dX', 'NN', '10×7·7×8', 1],
      ['rnn.layer0.dW_hh', 'TN', '8×10·10×32', 1],
      ['rnn.layer0.db_hh', 'NN, M = 1', '1×10·10×32', 1],
      ['rnn.layer0.dW_ih', 'TN', '4×10·10×32', 1],
      ['rnn.layer0.dX0', 'NT', '10×32·32×4', 1],
    ]);
    // Timed beside the ceiling GEMM, though this run measured no ceilings (as an isolated child).
    for (const e of census.entries) expect(e.ms > 0 && e.fraction! > 0 && e.ceiling_gflops! > 0, e.label).toBe(true);
    expect(census.total_ms).toBeCloseTo(
      census.entries.reduce((t, e) => t + e.calls * e.ms, 0),
      9,
    );
    expect(formatTable(report)).toMatch(
      /^train-tiny: GEMMs of one step \(from its plan\): 9 calls, 9 distinct, [\d.]+ ms alone \(\d+% of the step's median\)/m,
    );
    // A forced strategy reaches the training shapes: per-step, the layer's forward and backward take a
    // few dispatches for each of the T = 5 steps, where 'auto' ran one loop each (persistent, B = 2).
    const forced = await runBench({
      shapes: [TINY_TRAIN_SHAPE],
      systems: ['webgpu-rnn'],
      runs: 1,
      warmup: 0,
      runtime: 'node (test)',
      ceilings: false,
      strategy: 'per-step',
      log: () => {},
    });
    const perLayer = (note?: string) => Number(/per layer: (\d+);/.exec(note ?? '')?.[1]);
    expect(forced.rows[0].error, forced.rows[0].error).toBeUndefined();
    expect(perLayer(forced.rows[0].note)).toBeGreaterThan(perLayer(ours.note) + 2 * 5);
  }, 300_000); // two benchmark runs, seven systems: 99 s in one clean-clone CI, 120.7 s (past the default 120) in the next

  it('GEMM census: a call at any alignment, batched, transposed or accumulating is rerun alone without a validation error', async () => {
    const ctx = await contextFor();
    const base = { label: 'census', bias: false, beta: 0, transA: false, transB: false, format: 'f32' as const, batch: 1 };
    const zero = { a: 0, b: 0, bias: 0, c: 0 };
    const shapes: GemmShape[] = [
      { ...base, M: 17, N: 13, K: 3, bias: true, align: { a: 1, b: 2, bias: 3, c: 1 }, strides: zero },
      { ...base, M: 16, N: 32, K: 8, batch: 2, bias: true, align: zero, strides: { a: 0, b: 8 * 32 + 32, bias: 8 * 32 + 32, c: 16 * 32 } },
      { ...base, M: 9, N: 5, K: 7, transA: true, transB: true, beta: 1, align: { a: 3, b: 1, bias: 0, c: 2 }, strides: zero },
      { ...base, M: 1, N: 12, K: 257, align: zero, strides: zero },
    ];
    for (const shape of shapes) {
      ctx.device.pushErrorScope('validation');
      const ms = await timeGemmShape(ctx, shape, 1);
      const error = await ctx.device.popErrorScope();
      expect(error?.message, JSON.stringify(shape)).toBeUndefined();
      expect(ms).toBeGreaterThan(0);
    }
    await expect(timeGemmShape(ctx, { ...shapes[3], format: 'f16' })).rejects.toThrow(/census reads B as f16; only f32 is timed/);
  });

  it('GEMM census: each GEMM against its bound — FLOP at the ceiling or bytes at the read and write rates (a software adapter adding the writes to the FLOP), plus one dispatch', () => {
    const zero = { a: 0, b: 0, bias: 0, c: 0 };
    const head: GemmShape = {
      label: 'head.forward',
      M: 32,
      N: 4,
      K: 64,
      batch: 1,
      transA: false,
      transB: true,
      beta: 0,
      bias: true,
      format: 'f32',
      align: zero,
      strides: zero,
    };
    // A 32×64, B 64×4 and bias 4 read; C 32×4 written.
    expect(gemmTraffic(head)).toEqual({ read: 4 * (32 * 64 + 64 * 4 + 4), written: 4 * 32 * 4 });
    // Two batches sharing A (stride 0), B and the bias per batch; C read with β, and written.
    const twice: GemmShape = { ...head, batch: 2, beta: 1, strides: { a: 0, b: 256, bias: 4, c: 128 } };
    expect(gemmTraffic(twice)).toEqual({ read: 4 * (32 * 64 + 2 * (64 * 4) + 2 * 4 + 2 * (32 * 4)), written: 4 * 2 * (32 * 4) });
    const ceilings = { gemm_gflops: 2, read_gbps: 1, write_gbps: 0.5, serial: false, empty_dispatch_us: 20 };
    // 2 MFLOP at 2 GFLOP/s: 1 ms; 0.4 MB read at 1 GB/s: 0.4 ms; plus 20 µs.
    expect(gemmBound(2e6, { read: 4e5, written: 0 }, ceilings)).toEqual({ ms: 1.02, by: 'arithmetic' });
    expect(gemmBound(2e6, { read: 4e6, written: 0 }, ceilings).by).toBe('memory');
    expect(gemmBound(2e6, { read: 4e6, written: 0 }, ceilings).ms).toBeCloseTo(4.02, 12);
    // 0.1 MB read, 0.2 MB written at 0.5 GB/s (0.4 ms): on a GPU the writes overlap the arithmetic; on a
    // software adapter, whose cores do both, they add to it.
    expect(gemmBound(2e6, { read: 1e5, written: 2e5 }, ceilings)).toEqual({ ms: 1.02, by: 'arithmetic' });
    const serial = gemmBound(2e6, { read: 1e5, written: 2e5 }, { ...ceilings, serial: true });
    expect(serial.by).toBe('arithmetic + writes');
    expect(serial.ms).toBeCloseTo(1.42, 12);
    // The memory side counts the writes too: 0.1 ms of reads + 2 ms of writes.
    expect(gemmBound(2e6, { read: 1e5, written: 1e6 }, ceilings)).toEqual({ ms: expect.closeTo(2.12, 12), by: 'memory' });
    // A census measured without ceilings (an isolated child) is read against the report's.
    const census = {
      entries: [
        { label: 'head.forward', calls: 1, layout: 'NT + bias', shape: '32×64·64×4', ms: 0.051, gflops: 16384 / 51e3, flop: 16384, traffic: gemmTraffic(head) },
      ],
      total_ms: 0.051,
      gflops: 16384 / 51e3,
    };
    const [, line] = formatGemmCensus('train-x', census, 10, ceilings);
    // Bound: max(8.2 µs, 9.2 µs read + 1.0 µs written) + 20 µs = 30.3 µs of 51 µs.
    expect(line).toMatch(/0\.05 ms +0\.321 GFLOP\/s \(16% of the ceiling; 59% of its memory bound\) {2}head\.forward$/);
    expect(formatGemmCensus('train-x', census, 10)[1]).not.toMatch(/bound|ceiling/);
    // An isolated child's census timed beside the ceiling GEMM: its fraction as measured, its bound
    // from the ceiling's rate around it (1 GFLOP/s: 16.4 µs of arithmetic, over the 10.2 µs of memory, + 20 µs of 51 µs).
    const beside = { ...census, entries: [{ ...census.entries[0], fraction: 0.3, ceiling_gflops: 1 }] };
    expect(formatGemmCensus('train-x', beside, 10, ceilings)[1]).toMatch(/\(30% of the ceiling, interleaved; 71% of its arithmetic bound\)/);
  });

  it('GEMMs timed beside the ceiling GEMM: each sample read against the ceiling measured around it', async () => {
    // Ceiling samples before round 0, after round 0, after round 1: 1, 4, 9 GFLOP/s — around round 0
    // √(1·4) = 2, around round 1 √(4·9) = 6. A GEMM of 1 MFLOP taking 1 ms (1 GFLOP/s) then 0.25 ms (4 GFLOP/s).
    const [t] = readAgainstCeiling([1e6], [[1, 0.25]], [1, 4, 9]);
    expect(t.fraction).toBeCloseTo(4 / 6, 12); // the median of 1/2 and 4/6: the upper, as every median of the benchmark
    expect(t.ms).toBe(1);
    expect(t.ceiling_gflops).toBe(6);
    // On the GPU: the ceiling GEMM against itself and at half its K, each prepared once and sampled in rounds.
    const ctx = await contextFor();
    const reference = ceilingGemmShape(0.125);
    const half: GemmShape = { ...reference, label: 'half', K: reference.K / 2 };
    const timed = await timeAgainstCeiling(ctx, reference, [reference, half], 2);
    for (const r of timed) expect(r.ms > 0 && r.fraction > 0 && Number.isFinite(r.fraction) && r.ceiling_gflops > 0).toBe(true);
  });

  it("encoder–decoder rows: ours, TensorFlow.js's layers-API model and PyTorch's module train the date model; flops counted by hand", async () => {
    const report = await runBench({
      shapes: [TINY_SEQ2SEQ_TRAIN_SHAPE],
      systems: ['webgpu-rnn', 'tfjs-webgpu', 'pytorch-cpu', 'cpu-reference'],
      runs: 2,
      warmup: 1,
      runtime: 'node (test)',
      ceilings: false,
      ceilingScale: 0.125,
      log: () => undefined,
    });
    expect(report.rows.map((r) => r.system)).toEqual(['webgpu-rnn', 'tfjs-webgpu', 'pytorch-cpu', 'cpu-reference']);
    for (const r of report.rows) {
      if (r.system === 'pytorch-cpu' && r.error) {
        expect(r.error).toMatch(/pytorch-cpu: .*(torch|python|No such file)/i);
        continue;
      }
      expect(r.error, `${r.system}: ${r.error}`).toBeUndefined();
      expect(r.median_ms).toBeGreaterThan(0);
      // TensorFlow.js's model starts the decoder's c from h_n (the example's bridge): near, not equal.
      expect(r.max_rel_err).toBeLessThan(r.system === 'tfjs-webgpu' ? 0.05 : 1e-5);
    }
    expect(report.rows[1].note).toMatch(/decoder's c starts from the encoder's last h/);
    // Encoder 2·4·6·(4 + 6)·3·5, decoder ·4 steps, attention 2·2·T·S·B·H_e, combine 2·T·B·(6 + 6)·5, head 2·T·B·5·7; three times.
    const flop = 2 * 4 * 6 * 10 * 3 * 5 + 2 * 4 * 6 * 10 * 3 * 4 + 2 * 2 * 4 * 5 * 3 * 6 + 2 * 4 * 3 * 12 * 5 + 2 * 4 * 3 * 5 * 7;
    expect(report.rows[0].gflop).toBeCloseTo((3 * flop) / 1e9, 15);
    const date = TRAIN_SHAPES.find((s) => s.name === 'train-date-attention')!;
    expect(trainStepGflop(date)).toBeCloseTo(0.634748928, 12); // 3 · (100663296 + 83886080 + 3932160 + 20971520 + 2129920) / 1e9
    // Attention before the decoder: no combine layer; the decoder reads E + H_e; concat's projections (A = 256).
    const bahdanau = TRAIN_SHAPES.find((s) => s.name === 'train-bahdanau')!;
    expect(trainStepGflop(bahdanau)).toBeCloseTo(10.64042496, 10); // 3 · (1006632960 + 1509949440 + 26214400 + 348651520 + 655360000) / 1e9
    // Four systems start and train here: 64–67 s on an idle 2-core machine beside a second test file,
    // too close to the suite's 120 s default on a busier host.
  }, 300_000);

  it('runs each system in a process of its own through `npm run bench` (Node runtime)', async () => {
    const { output, rows } = await cliBench(['--tiny', '--runs', '2', '--systems', 'webgpu-rnn,cpu-reference', '--profile']);
    expect(output).toMatch(/one process per system/);
    expect(output).toMatch(/ceilings: GEMM/);
    checkRows(rows, ['webgpu-rnn', 'cpu-reference']);
    // --profile reaches the child: our two dispatches, each timed alone (dispatch-profile.ts).
    expect(rows[0].dispatch_profile!.dispatches.length).toBe(2);
    expect(output).toMatch(/^tiny webgpu-rnn: 2 dispatches, each alone: [\d.]+ ms in all/m);
  });

  it('runs in headless Chromium through `npm run bench -- --runtime chromium`', async () => {
    const { output, rows } = await cliBench(['--tiny', '--runs', '2', '--runtime', 'chromium', '--profile']);
    expect(output).toMatch(/runtime: chromium/);
    checkRows(rows);
    // --profile reaches the page: our dispatches only, each timed alone.
    expect(rows.filter((r) => r.dispatch_profile).map((r) => [r.system, r.dispatch_profile!.dispatches.length])).toEqual([['webgpu-rnn', 2]]);
    expect(output).toMatch(/^tiny webgpu-rnn: 2 dispatches, each alone: [\d.]+ ms in all/m);
  });
});

describe('benchmark options (parseBenchArgs)', () => {
  const names = (argv: string[]) => parseBenchArgs(argv).shapes.map((s) => s.name);

  it('takes --name value and --name=value alike', () => {
    const spaced = [
      '--shapes',
      'bigru,tiny',
      '--big',
      '--runs',
      '3',
      '--warmup',
      '0',
      '--systems',
      'webgpu-rnn,cpu-reference',
      '--strategy',
      'fused',
      '--runtime',
      'chromium',
      '--json',
      'rows.json',
      '--no-isolate',
      '--skip-ceilings',
    ];
    const inline = [
      '--shapes=bigru,tiny',
      '--big',
      '--runs=3',
      '--warmup=0',
      '--systems=webgpu-rnn,cpu-reference',
      '--strategy=fused',
      '--runtime=chromium',
      '--json=rows.json',
      '--no-isolate',
      '--skip-ceilings',
    ];
    const args = parseBenchArgs(spaced);
    expect(parseBenchArgs(inline)).toEqual(args);
    expect(args).toMatchObject({
      runs: 3,
      warmup: 0,
      systems: ['webgpu-rnn', 'cpu-reference'],
      strategy: 'fused',
      runtime: 'chromium',
      json: 'rows.json',
      isolate: false,
      skipCeilings: true,
      ceilingScale: 1,
    });
    expect(args.shapes.map((s) => s.name)).toEqual(['bigru', 'tiny', ...BIG_SHAPES.map((s) => s.name)]);
  });

  it('defaults, and --shapes / --big / --tiny applied in the order given', () => {
    expect(parseBenchArgs([])).toMatchObject({
      shapes: [...SHAPES, ...TRAIN_SHAPES],
      runs: 5,
      warmup: 1,
      runtime: 'node',
      strategy: 'auto',
      isolate: true,
      skipCeilings: false,
      ceilingScale: 1,
    });
    expect(parseBenchArgs([]).systems).toEqual([
      'webgpu-rnn',
      'webgpu-rnn-forward',
      'webgpu-rnn-onnx',
      'tfjs-webgpu',
      'ort-webgpu',
      'pytorch-cpu',
      'cpu-reference',
    ]);
    // pytorch-cuda, like webgpu-rnn-f16, runs only when named.
    expect(parseBenchArgs(['--systems', 'webgpu-rnn,pytorch-cuda']).systems).toEqual(['webgpu-rnn', 'pytorch-cuda']);
    expect(names(['--big'])).toEqual([...SHAPES, ...TRAIN_SHAPES, ...BIG_SHAPES].map((s) => s.name));
    expect(names(['--train'])).toEqual(['train-char-lm', 'train-classifier', 'train-long', 'train-date-attention', 'train-bahdanau']);
    expect(names(['--shapes', 'train-tiny,tiny'])).toEqual(['train-tiny', 'tiny']);
    expect(names(['--big', '--shapes', 'bigru'])).toEqual(['bigru']);
    expect(names(['--shapes=bigru', '--tiny'])).toEqual(['tiny']);
    expect(parseBenchArgs(['--tiny', '--shapes', 'bigru'])).toMatchObject({ shapes: [SHAPES.find((s) => s.name === 'bigru')], ceilingScale: 0.125 });
    expect(parseBenchArgs(['--runs', '2', '--runs=4']).runs).toBe(4);
  });

  it.each([
    [['--frob'], /^unknown option "--frob"$/],
    [['--frob=1'], /^unknown option "--frob"$/],
    [['-x'], /^unknown option "-x"$/],
    [['--runs'], /^--runs needs a value$/],
    [['--runs='], /^--runs needs a value$/],
    [['--json', '--tiny'], /^--json needs a value$/],
    [['--tiny=yes'], /^--tiny takes no value, got "yes"$/],
    [['--runs', '0'], /^--runs must be an integer ≥ 1, got "0"$/],
    [['--warmup', '-1'], /^--warmup must be an integer ≥ 0, got "-1"$/],
    [['--runs=2.5'], /^--runs must be an integer ≥ 1, got "2.5"$/],
    [['--shapes', 'bigru,nope'], /^unknown shape "nope" \(known: .*train-tiny, train-tiny-seq2seq\)$/],
    [['--systems=webgpu-rnn,pytorch'], /^unknown system "pytorch" \(known: .*webgpu-rnn-f16, pytorch-cuda\)$/],
    [['--runtime', 'deno'], /^--runtime must be node or chromium, got "deno"$/],
    [['--strategy=fast'], /^--strategy must be auto, per-step, persistent or fused, got "fast"$/],
    [['--tiny', 'extra'], /^unexpected argument "extra"$/],
  ])('rejects %j', (argv, message) => {
    let error: unknown;
    try {
      parseBenchArgs(argv);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RnnError);
    expect((error as RnnError).code).toBe('USAGE');
    expect((error as RnnError).message).toMatch(message);
  });

  it("childArgv replaces the parent's options in either form and keeps the rest", () => {
    for (const argv of [
      ['--tiny', '--systems', 'webgpu-rnn,cpu-reference', '--runs', '2', '--json', 'rows.json', '--no-isolate'],
      ['--tiny', '--systems=webgpu-rnn,cpu-reference', '--runs=2', '--json=rows.json', '--skip-ceilings'],
    ]) {
      const child = childArgv(argv, 'cpu-reference', '/tmp/child.json');
      expect(child.filter((a) => /^--(systems|json|no-isolate|skip-ceilings)/.test(a))).toEqual(['--systems', '--json', '--no-isolate', '--skip-ceilings']);
      expect(parseBenchArgs(child)).toEqual({
        ...parseBenchArgs(argv),
        systems: ['cpu-reference'],
        json: '/tmp/child.json',
        isolate: false,
        skipCeilings: true,
      });
    }
  });
});
