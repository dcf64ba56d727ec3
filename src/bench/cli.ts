/**
 * The benchmark's command line (`npm run bench`, src/bench/main.ts): runs it in Node (Dawn) or in headless Chromium
 * (a page served by Vite, driven by puppeteer — both dev dependencies, so that runtime works from a
 * checkout of this repository), prints the table and optionally writes the JSON rows.
 *
 *   npm run bench -- [--shapes a,b] [--big] [--tiny] [--runs N] [--warmup N]
 *                    [--systems webgpu-rnn,webgpu-rnn-f16,tfjs-webgpu,ort-webgpu,cpu-reference]
 *                    [--strategy auto|per-step|persistent|fused] [--runtime node|chromium] [--json FILE]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BenchReport, type BenchRow, formatTable, runBench } from './run.js';
import { ALL_SHAPES, BIG_SHAPES, type BenchShape, SHAPES, TINY_SHAPE } from './shapes.js';
import type { StrategyChoice } from '../gpu/strategy.js';
import type { SystemName } from './system.js';

export const BENCH_USAGE = `Usage:
  npm run bench -- [--shapes a,b] [--big] [--tiny] [--runs N] [--warmup N]
                   [--systems webgpu-rnn,tfjs-webgpu,ort-webgpu,cpu-reference]
                   [--strategy auto|per-step|persistent|fused] [--runtime node|chromium] [--json FILE]

  --systems  default: all but webgpu-rnn-f16 (our engine with half-precision weights), which runs when named
  --strategy forces webgpu-rnn's recurrent strategy (default auto)
  --no-isolate runs every system in one Node process, their samples taken in rounds (by default each
               gets a process of its own, so no system's leftovers — pools, pending promises, patched
               objects — slow the next)
  shapes: ${ALL_SHAPES.map((s) => s.name).join(', ')}`;

const SYSTEMS: readonly SystemName[] = ['webgpu-rnn', 'tfjs-webgpu', 'ort-webgpu', 'cpu-reference'];
/** Systems run only when named: webgpu-rnn-f16 needs an adapter with shader-f16. */
const OPTIONAL_SYSTEMS: readonly SystemName[] = ['webgpu-rnn-f16'];

export interface BenchArgs {
  shapes: BenchShape[];
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
}

export function parseBenchArgs(argv: string[], fail: (message: string) => never): BenchArgs {
  const args: BenchArgs = { shapes: [...SHAPES], systems: [...SYSTEMS], runs: 5, warmup: 1, runtime: 'node', ceilingScale: 1, strategy: 'auto', isolate: true, skipCeilings: false };
  const value = (i: number, flag: string) => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) fail(`${flag} needs a value`);
    return v;
  };
  const count = (v: string, flag: string, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) fail(`${flag} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    switch (flag) {
      case '--shapes':
        args.shapes = value(i++, flag).split(',').map((name) => ALL_SHAPES.find((s) => s.name === name) ?? fail(`unknown shape ${JSON.stringify(name)} (known: ${ALL_SHAPES.map((s) => s.name).join(', ')})`));
        break;
      case '--big':
        args.shapes = [...args.shapes, ...BIG_SHAPES.filter((s) => !args.shapes.includes(s))];
        break;
      case '--tiny':
        args.shapes = [TINY_SHAPE];
        args.ceilingScale = 0.125;
        break;
      case '--systems':
        args.systems = value(i++, flag).split(',').map((name) => [...SYSTEMS, ...OPTIONAL_SYSTEMS].includes(name as SystemName)
          ? (name as SystemName)
          : fail(`unknown system ${JSON.stringify(name)} (known: ${[...SYSTEMS, ...OPTIONAL_SYSTEMS].join(', ')})`));
        break;
      case '--runs':
        args.runs = count(value(i++, flag), flag, 1);
        break;
      case '--warmup':
        args.warmup = count(value(i++, flag), flag, 0);
        break;
      case '--runtime': {
        const v = value(i++, flag);
        if (v !== 'node' && v !== 'chromium') fail(`--runtime must be node or chromium, got ${JSON.stringify(v)}`);
        args.runtime = v;
        break;
      }
      case '--strategy': {
        const v = value(i++, flag);
        if (!['auto', 'per-step', 'persistent', 'fused'].includes(v)) fail(`--strategy must be auto, per-step, persistent or fused, got ${JSON.stringify(v)}`);
        args.strategy = v as StrategyChoice;
        break;
      }
      case '--json':
        args.json = value(i++, flag);
        break;
      case '--no-isolate':
        args.isolate = false;
        break;
      case '--skip-ceilings':
        args.skipCeilings = true;
        break;
      default:
        fail(`unknown option ${JSON.stringify(flag)}`);
    }
  }
  return args;
}

async function runInNode(args: BenchArgs): Promise<BenchReport> {
  return runBench({ ...args, runtime: `node ${process.version} (Dawn)`, ceilings: !args.skipCeilings, log: (line) => console.log(line) });
}

/** argv with the options the parent sets for a child removed. */
function childArgv(argv: string[], system: SystemName, json: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--systems' || argv[i] === '--json') i++;
    else if (argv[i] !== '--no-isolate' && argv[i] !== '--skip-ceilings') out.push(argv[i]);
  }
  return [...out, '--systems', system, '--json', json, '--no-isolate', '--skip-ceilings'];
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
 * @param self how to start this command again (executable, script, leading arguments), for the
 *   isolated Node runtime's child processes.
 */
export async function benchMain(argv: string[], fail: (message: string) => never, self: readonly string[]): Promise<void> {
  const args = parseBenchArgs(argv, fail);
  const report = args.runtime === 'chromium' ? await runInChromium(args)
    : args.isolate && args.systems.length > 1 ? await runIsolated(args, argv, self)
    : await runInNode(args);
  console.log(`\n${formatTable(report)}`);
  if (args.json) {
    await writeFile(args.json, `${JSON.stringify(report.rows, null, 2)}\n`);
    console.log(`\nrows written to ${args.json}`);
  }
}
