/**
 * The benchmark in a browser page: the same runBench as in Node, on navigator.gpu. Used by
 * `webgpu-rnn bench --runtime chromium` (which reads `window.__bench` and the console's raw lines), and
 * by hand in any browser, in the demo's language (`?lang=`, the choice made on the demo, the browser's):
 * its progress worded from the string tables, then the report as the command prints it.
 */
import { type BenchReport, formatTable, runBench } from '../src/bench/run.js';
import { ALL_SHAPES, SHAPES } from '../src/bench/shapes.js';
import { TRAIN_SHAPES } from '../src/bench/train-shapes.js';
import type { SystemName } from '../src/bench/system.js';
import type { StrategyChoice } from '../src/gpu/strategy.js';
import { progressString, readProgress } from './bench-progress.js';
import { applyStrings, errorText, language, t } from './i18n.js';

declare global {
  interface Window {
    __bench?: { report?: BenchReport; error?: string };
  }
}

const params = new URLSearchParams(location.search);
const shapeNames = params.get('shapes')?.split(',');
const shapes = shapeNames ? shapeNames.map((n) => ALL_SHAPES.find((s) => s.name === n)!).filter(Boolean) : [...SHAPES, ...TRAIN_SHAPES];
const systems = (params.get('systems')?.split(',') ?? ['webgpu-rnn', 'webgpu-rnn-forward', 'tfjs-webgpu', 'ort-webgpu', 'cpu-reference']) as SystemName[];
document.documentElement.lang = language() === 'zh' ? 'zh-CN' : language();
applyStrings();
const status = document.getElementById('status')!;
const report = document.getElementById('log')!;
status.textContent = t('bench.running', { n: shapes.length, systems: systems.join(', ') });
const log = (line: string) => {
  console.log(line);
  const progress = readProgress(
    line,
    shapes.map((s) => s.name),
    systems,
  );
  if (!progress) return;
  const item = document.createElement('li');
  item.textContent = t(
    ...progressString(
      progress,
      (s) => s,
      (s) => s,
    ),
  );
  document.getElementById('progress')!.append(item);
};

runBench({
  shapes,
  systems,
  runs: Number(params.get('runs') ?? 5),
  warmup: Number(params.get('warmup') ?? 1),
  ceilingScale: Number(params.get('ceilingScale') ?? 1),
  strategy: (params.get('strategy') ?? 'auto') as StrategyChoice,
  profile: params.get('profile') === '1',
  runtime: `chromium ${navigator.userAgent.match(/Chrome\/[\d.]+/)?.[0] ?? ''}`,
  log,
})
  .then((result) => {
    console.log(`\n${formatTable(result)}`);
    status.textContent = t('bench.done', { n: result.rows.filter((r) => !r.error).length });
    report.textContent = formatTable(result);
    window.__bench = { report: result };
  })
  .catch((e: Error) => {
    console.log(`failed: ${e.stack ?? e.message}`);
    status.textContent = t('bench.failed', { message: errorText(e) });
    report.textContent = e.stack ?? e.message;
    window.__bench = { error: e.message };
  });
