/**
 * The benchmark's command line (`npm run bench`, src/bench/main.ts): runs it in Node (Dawn) or in headless Chromium
 * (a page served by Vite, driven by puppeteer — both dev dependencies, so that runtime works from a
 * checkout of this repository), prints the table and optionally writes the JSON rows.
 *
 *   npm run bench -- [--shapes a,b] [--big] [--tiny] [--train] [--runs N] [--warmup N]
 *                    [--systems webgpu-rnn,webgpu-rnn-f16,webgpu-rnn-forward,webgpu-rnn-onnx,tfjs-webgpu,ort-webgpu,pytorch-cpu,pytorch-cuda,cpu-reference]
 *                    [--strategy auto|per-step|persistent|fused] [--runtime node|chromium] [--json FILE] [--profile]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type OptionSpecs, parseCommandLine } from '../cli-args.js';
import { RnnError } from '../errors.js';
import { type BenchReport, type BenchRow, formatTable, runBench } from './run.js';
import { ALL_SHAPES, BIG_SHAPES, type BenchShape, SHAPES, TINY_SHAPE } from './shapes.js';
import type { StrategyChoice } from '../gpu/strategy.js';
import type { SystemName } from './system.js';
import { TRAIN_SHAPES, type TrainShape } from './train-shapes.js';

export const BENCH_USAGE = `Usage:
  npm run bench -- [--shapes a,b] [--big] [--tiny] [--train] [--runs N] [--warmup N]
                   [--systems webgpu-rnn,webgpu-rnn-forward,webgpu-rnn-onnx,tfjs-webgpu,ort-webgpu,pytorch-cpu,pytorch-cuda,cpu-reference]
                   [--strategy auto|per-step|persistent|fused] [--runtime node|chromium] [--json FILE] [--profile]

  default shapes: the forward shapes, then the training shapes (train-*: one training step with Adam)
  --train    the training shapes only
  --systems  default: all but webgpu-rnn-f16 (our engine with half-precision weights) and pytorch-cuda
             (PyTorch on a CUDA GPU), which run when named; webgpu-rnn-forward (our forward and loss, beside
             our step), pytorch-cpu and pytorch-cuda (Python with torch, Node only) run on the training shapes only; webgpu-rnn-onnx (the file ort-webgpu runs, through
             loadOnnx: the ONNX row) and ort-webgpu on the forward shapes only
  --strategy forces webgpu-rnn's recurrent strategy (default auto); on the training shapes, its recurrent
             layers' backward (per-step, persistent or fused) and the training forward that goes with it
  --profile  after the timed runs, times each dispatch of one run of our engine alone (its forward; on
             the training shapes its step and its forward + loss) and prints them summed per kernel
  --no-isolate runs every system in one Node process, their samples taken in rounds (by default each
               gets a process of its own, so no system's leftovers — pools, pending promises, patched
               objects — slow the next)
  shapes: ${ALL_SHAPES.map((s) => s.name).join(', ')}`;

const SYSTEMS: readonly SystemName[] = ['webgpu-rnn', 'webgpu-rnn-forward', 'webgpu-rnn-onnx', 'tfjs-webgpu', 'ort-webgpu', 'pytorch-cpu', 'cpu-reference'];
/** Systems run only when named: webgpu-rnn-f16 needs an adapter with shader-f16, pytorch-cuda a CUDA GPU. */
const OPTIONAL_SYSTEMS: readonly SystemName[] = ['webgpu-rnn-f16', 'pytorch-cuda'];

export interface BenchArgs {
  shapes: (BenchShape | TrainShape)[];
  systems: SystemName[];
  runs: number;
  warmup: number;
  runtime: 'node' | 'chromium';
  json?: string;
  ceilingScale: number;
  strategy: StrategyChoice;
  /** Node runtime: one child process per system. */
  isolate: boolean;
  /** Internal (isolated children): skip the adapter ceilings, the parent measures them. */
  skipCeilings: boolean;
  /** Time each dispatch of one run of our engine alone, after the timed runs (dispatch-profile.ts). */
  profile: boolean;
}

const BENCH_OPTIONS: OptionSpecs = {
  shapes: { type: 'string' },
  big: { type: 'boolean' },
  tiny: { type: 'boolean' },
  train: { type: 'boolean' },
  systems: { type: 'string' },
  runs: { type: 'string' },
  warmup: { type: 'string' },
  runtime: { type: 'string' },
  strategy: { type: 'string' },
  json: { type: 'string' },
  'no-isolate': { type: 'boolean' },
  'skip-ceilings': { type: 'boolean' },
  profile: { type: 'boolean' },
};

/** The options a parent sets for each isolated child itself (childArgv). */
const PARENT_SET = new Set(['systems', 'json', 'no-isolate', 'skip-ceilings']);

const usage = (message: string): never => {
  throw new RnnError('USAGE', message);
};

/**
 * Parses the benchmark's options (`--name value` or `--name=value`); throws RnnError 'USAGE' naming
 * the first mistake. Options apply in the order given: `--shapes a --big` adds the big shapes to a,
 * `--big --shapes a` is just a; `--tiny` replaces the shapes by the tiny one and scales the ceilings
 * down, and a later `--shapes` or `--big` changes the shapes but keeps that scale.
 */
export function parseBenchArgs(argv: string[]): BenchArgs {
  const args: BenchArgs = {
    shapes: [...SHAPES, ...TRAIN_SHAPES],
    systems: [...SYSTEMS],
    runs: 5,
    warmup: 1,
    runtime: 'node',
    ceilingScale: 1,
    strategy: 'auto',
    isolate: true,
    skipCeilings: false,
    profile: false,
  };
  const count = (v: string, flag: string, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) usage(`${flag} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
    return n;
  };
  const { options, positionals } = parseCommandLine(argv, BENCH_OPTIONS);
  if (positionals.length) usage(`unexpected argument ${JSON.stringify(positionals[0])}`);
  for (const { name, value: v = '' } of options) {
    const flag = `--${name}`;
    switch (name) {
      case 'shapes':
        args.shapes = v
          .split(',')
          .map(
            (s) =>
              ALL_SHAPES.find((shape) => shape.name === s) ??
              usage(`unknown shape ${JSON.stringify(s)} (known: ${ALL_SHAPES.map((shape) => shape.name).join(', ')})`),
          );
        break;
      case 'big':
        args.shapes = [...args.shapes, ...BIG_SHAPES.filter((s) => !args.shapes.includes(s))];
        break;
      case 'tiny':
        args.shapes = [TINY_SHAPE];
        args.ceilingScale = 0.125;
        break;
      case 'train':
        args.shapes = [...TRAIN_SHAPES];
        break;
      case 'systems':
        args.systems = v
          .split(',')
          .map((s) =>
            [...SYSTEMS, ...OPTIONAL_SYSTEMS].includes(s as SystemName)
              ? (s as SystemName)
              : usage(`unknown system ${JSON.stringify(s)} (known: ${[...SYSTEMS, ...OPTIONAL_SYSTEMS].join(', ')})`),
          );
        break;
      case 'runs':
        args.runs = count(v, flag, 1);
        break;
      case 'warmup':
        args.warmup = count(v, flag, 0);
        break;
      case 'runtime':
        if (v !== 'node' && v !== 'chromium') usage(`--runtime must be node or chromium, got ${JSON.stringify(v)}`);
        args.runtime = v as BenchArgs['runtime'];
        break;
      case 'strategy':
        if (!['auto', 'per-step', 'persistent', 'fused'].includes(v)) usage(`--strategy must be auto, per-step, persistent or fused, got ${JSON.stringify(v)}`);
        args.strategy = v as StrategyChoice;
        break;
      case 'json':
        args.json = v;
        break;
      case 'no-isolate':
        args.isolate = false;
        break;
      case 'skip-ceilings':
        args.skipCeilings = true;
        break;
      case 'profile':
        args.profile = true;
        break;
    }
  }
  return args;
}

async function runInNode(args: BenchArgs): Promise<BenchReport> {
  return runBench({ ...args, runtime: `node ${process.version} (Dawn)`, ceilings: !args.skipCeilings, log: (line) => console.log(line) });
}

/**
 * The command line of the child that benchmarks `system` alone: `argv` (already parsed, so valid)
 * without the options the parent sets for it, in either form (`--json x`, `--json=x`), then those.
 */
export function childArgv(argv: string[], system: SystemName, json: string): string[] {
  const drop = new Set(
    parseCommandLine(argv, BENCH_OPTIONS)
      .options.filter((o) => PARENT_SET.has(o.name))
      .flatMap((o) => o.indices),
  );
  return [...argv.filter((_, i) => !drop.has(i)), '--systems', system, '--json', json, '--no-isolate', '--skip-ceilings'];
}

/**
 * Node runtime, isolated: the parent measures the adapter's ceilings, then runs each system in a
 * child process of its own (same command, one system), one after the other, and merges their rows.
 */
async function runIsolated(args: BenchArgs, argv: string[], self: readonly string[]): Promise<BenchReport> {
  const head = await runBench({ ...args, systems: [], runtime: `node ${process.version} (Dawn), one process per system`, log: (l) => console.log(l) });
  const dir = await mkdtemp(join(tmpdir(), 'webgpu-rnn-bench-'));
  const rows: BenchRow[] = [];
  try {
    for (const system of args.systems) {
      const json = join(dir, `${system}.json`);
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn(self[0], [...self.slice(1), ...childArgv(argv, system, json)], { stdio: ['ignore', 'inherit', 'inherit'] });
        child.on('error', reject);
        child.on('exit', (c) => resolve(c ?? 1));
      });
      if (code !== 0) throw new Error(`benchmark of ${system} exited with code ${code}`);
      rows.push(...(JSON.parse(await readFile(json, 'utf8')) as BenchRow[]));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const order = (r: BenchRow) => args.shapes.findIndex((s) => s.name === r.shape) * args.systems.length + args.systems.indexOf(r.system);
  return { ...head, rows: rows.sort((a, b) => order(a) - order(b)) };
}

/** Serves the repository with Vite, opens demo/bench.html in headless Chromium, returns its report. */
async function runInChromium(args: BenchArgs): Promise<BenchReport> {
  const { runBenchInChromium } = await import('./chromium.js');
  return runBenchInChromium(args, (line) => console.log(line));
}

/**
 * Throws RnnError 'USAGE' for a mistake in `argv`.
 * @param self how to start this command again (executable, script, leading arguments), for the
 *   isolated Node runtime's child processes.
 */
export async function benchMain(argv: string[], self: readonly string[]): Promise<void> {
  const args = parseBenchArgs(argv);
  const report =
    args.runtime === 'chromium'
      ? await runInChromium(args)
      : args.isolate && args.systems.length > 1
        ? await runIsolated(args, argv, self)
        : await runInNode(args);
  console.log(`\n${formatTable(report)}`);
  if (args.json) {
    await writeFile(args.json, `${JSON.stringify(report.rows, null, 2)}\n`);
    console.log(`\nrows written to ${args.json}`);
  }
}
