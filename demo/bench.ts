/**
 * The benchmark in a browser page: the same runBench as in Node, on navigator.gpu. Used by
 * `webgpu-rnn bench --runtime chromium` (which reads `window.__bench`), and by hand in any browser.
 */
import { type BenchReport, formatTable, runBench } from '../src/bench/run.js';
import { ALL_SHAPES, SHAPES } from '../src/bench/shapes.js';
import { TRAIN_SHAPES } from '../src/bench/train-shapes.js';
import type { SystemName } from '../src/bench/system.js';
import type { StrategyChoice } from '../src/gpu/strategy.js';

declare global {
  interface Window {
    __bench?: { report?: BenchReport; error?: string };
  }
}

const params = new URLSearchParams(location.search);
const shapeNames = params.get('shapes')?.split(',');
const shapes = shapeNames ? shapeNames.map((n) => ALL_SHAPES.find((s) => s.name === n)!).filter(Boolean) : [...SHAPES, ...TRAIN_SHAPES];
const systems = (params.get('systems')?.split(',') ?? ['webgpu-rnn', 'webgpu-rnn-forward', 'tfjs-webgpu', 'ort-webgpu', 'cpu-reference']) as SystemName[];
const log = (line: string) => {
  document.getElementById('log')!.textContent += `${line}\n`;
  console.log(line);
};

runBench({
  shapes,
  systems,
  runs: Number(params.get('runs') ?? 5),
  warmup: Number(params.get('warmup') ?? 1),
  ceilingScale: Number(params.get('ceilingScale') ?? 1),
  strategy: (params.get('strategy') ?? 'auto') as StrategyChoice,
  runtime: `chromium ${navigator.userAgent.match(/Chrome\/[\d.]+/)?.[0] ?? ''}`,
  log,
})
  .then((report) => {
    log(`\n${formatTable(report)}`);
    window.__bench = { report };
  })
  .catch((e: Error) => {
    log(`failed: ${e.stack ?? e.message}`);
    window.__bench = { error: e.message };
  });
