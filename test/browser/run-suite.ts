/**
 * Browser side of the GPU agreement suite (test/browser/index.html): fetches the PyTorch fixtures
 * from the dev server, takes the engine's default device (navigator.gpu), runs the cases of
 * test/suites/gpu-agreement.ts that test/browser/selection.ts picks (each model on one strategy, the
 * strategies taking turns; every case without a strategy), in order, and publishes the results on
 * `window.__suite` for test/browser.test.ts (puppeteer) plus a visible list for a person watching the page.
 *
 * Failure is published, never thrown: a page without WebGPU sets `fatal`, so the Node side fails
 * at once instead of waiting out its timeout or mistaking "nothing ran" for a pass.
 */
import { getDefaultDevice } from '../../src/gpu/device.js';
import { type LoadBytes, loadManifest } from '../support/fixtures.js';
import { gpuAgreementCases } from '../suites/gpu-agreement.js';
import { trainingManifests } from '../support/training-fixtures.js';
import { chromiumSelection } from './selection.js';

/** One case's outcome: `note` (the errors seen) when ok, `error` (message and stack) when not. */
export interface CaseResult {
  name: string;
  ok: boolean;
  ms: number;
  note?: string;
  error?: string;
}

/** What the page publishes on `window.__suite`; `done` is set last, after every result. */
export interface SuiteReport {
  done: boolean;
  /** Set when the suite cannot run at all (no navigator.gpu, no adapter, fixtures unreachable, device lost). */
  fatal?: string;
  /** "vendor architecture description" of the device's adapter, e.g. "google swiftshader". */
  adapter: string;
  isFallbackAdapter?: boolean;
  results: CaseResult[];
}

declare global {
  interface Window {
    __suite?: SuiteReport;
  }
}

/** The dev server serves the repository root, so fixtures are at /test/fixtures/<file>. */
const FIXTURES_URL = '/test/fixtures/';

const loadBytes: LoadBytes = async (path) => {
  const response = await fetch(FIXTURES_URL + path);
  if (!response.ok) throw new Error(`fetch ${FIXTURES_URL}${path}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
};

const report: SuiteReport = { done: false, adapter: '', results: [] };
window.__suite = report;

const element = (id: string) => document.getElementById(id)!;

function describeError(error: unknown): string {
  if (error instanceof Error) return error.stack?.includes(error.message) ? error.stack : `${error.message}\n${error.stack ?? ''}`;
  return String(error);
}

function fail(message: string): void {
  report.fatal = message;
  const box = element('fatal');
  box.textContent = `FATAL: ${message}`;
  box.hidden = false;
}

function show(result: CaseResult): void {
  const item = document.createElement('li');
  item.className = result.ok ? 'ok' : 'fail';
  item.textContent = `${result.ok ? '✓' : '✗'} ${result.name} (${result.ms.toFixed(0)} ms): ${result.ok ? result.note : result.error}`;
  element('results').append(item);
}

/** "vendor architecture description", skipping the fields a browser leaves empty. */
function adapterName(info: GPUAdapterInfo): string {
  return [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || '(adapter gives no info)';
}

async function main(): Promise<void> {
  if (!('gpu' in navigator)) {
    fail(`navigator.gpu is missing (secure context: ${window.isSecureContext}); WebGPU is off in this browser`);
    return;
  }
  const device = await getDefaultDevice();
  report.adapter = adapterName(device.adapterInfo);
  report.isFallbackAdapter = device.adapterInfo.isFallbackAdapter;
  // A lost default device makes every later case fail; say so once instead of once per case.
  void device.lost.then((info) => fail(`the WebGPU device was lost (${info.reason}): ${info.message}`));

  const manifest = await loadManifest(loadBytes);
  const suite = gpuAgreementCases(loadBytes, manifest, device, 'f32', await trainingManifests(loadBytes));
  const cases = chromiumSelection(suite.map((c) => c.name)).map((i) => suite[i]);
  for (const [i, c] of cases.entries()) {
    element('status').textContent = `running ${i + 1}/${cases.length} on ${report.adapter}: ${c.name}`;
    const start = performance.now();
    let result: CaseResult;
    try {
      result = { name: c.name, ok: true, ms: 0, note: await c.run() };
    } catch (error) {
      result = { name: c.name, ok: false, ms: 0, error: describeError(error) };
    }
    result.ms = performance.now() - start;
    report.results.push(result);
    show(result);
  }
  const failed = report.results.filter((r) => !r.ok).length;
  element('status').textContent = `done on ${report.adapter}: ${cases.length - failed} passed, ${failed} failed`;
}

main()
  .catch((error: unknown) => fail(describeError(error)))
  .finally(() => (report.done = true));
