/**
 * The GPU agreement suite in real headless Chromium: vite serves the repository, puppeteer opens
 * test/browser/index.html, the page runs a selection of test/suites/gpu-agreement.ts's cases on
 * navigator.gpu and publishes `window.__suite`; each selected case becomes one vitest test here.
 *
 * Node (test/gpu-node.test.ts) runs every case. Here the shaders are the same and only the Dawn under
 * them differs, so the cross product of models and strategies is not run a second time. The selection
 * (test/browser/selection.ts): a model, stream or training fixture that Node runs on several
 * strategies runs here on one, the strategies taking turns (the k-th such subject in suite order gets
 * its (k mod n)-th), so every kind of case and every mode still meets every strategy; every case
 * without a strategy runs (thresholds, limits, lifetimes, ordering, faults, NaN, the other adapter
 * kind's layouts, training's and seq2seq's reference cases) but two that re-run whole backward-kernel
 * families (selection.ts's NODE_ONLY). test/browser-selection.test.ts checks it.
 *
 * Anything that stops the page from running (no WebGPU, no adapter, server or browser failing to
 * start) fails every test with the reason. It never skips: a hook error in vitest would only mark
 * the tests skipped, so setup errors are caught and rethrown by the tests themselves.
 */
import type { Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SuiteReport } from './browser/run-suite.js';
import { type ChromiumPages, forwardPageErrors, startChromium } from './support/chromium.js';
import { loadManifest } from './support/fixtures.js';
import { loadNodeBytes } from './support/node-fixtures.js';
import { trainingManifests } from './support/training-fixtures.js';
import { CHECKED_NOTE, gpuAgreementCaseNames } from './suites/gpu-agreement.js';
import { chromiumSelection } from './browser/selection.js';

const PAGE_PATH = '/test/browser/index.html';

/**
 * The selection takes about 2.5 minutes on a 2-core software adapter (159 s in CI beside the other
 * worker; 410–788 s before the persistent kernels' workgroup arrays were sized per shape, when most of
 * it was SwiftShader building their pipelines); this bounds a hung GPU, with room for a slow machine.
 */
const SUITE_TIMEOUT_MS = 15 * 60_000;
const POLL_MS = 250;
/** How many of the slowest cases the log names: where the next cut of this file's time would come from. */
const SLOWEST_SHOWN = 8;
/** Time to start vite and Chromium, on top of the suite. */
const STARTUP_MS = 60_000;

const manifest = await loadManifest(loadNodeBytes);
const suiteNames = gpuAgreementCaseNames(manifest, await trainingManifests(loadNodeBytes));
const caseNames = chromiumSelection(suiteNames).map((i) => suiteNames[i]);

let chromium: ChromiumPages | undefined;
let report: SuiteReport | undefined;
let setupError: unknown;

/**
 * Polls `window.__suite` from Node until the page is done or fatal. Polling from here, not
 * page.waitForFunction, keeps each protocol call short (a single long wait would hit puppeteer's
 * protocol timeout on a slow run) and notices a crashed page at the next poll.
 */
async function waitForSuite(page: Page): Promise<SuiteReport> {
  const deadline = Date.now() + SUITE_TIMEOUT_MS;
  for (;;) {
    const current = await page.evaluate(() => window.__suite);
    if (current && (current.done || current.fatal)) return current;
    if (Date.now() > deadline) {
      const progress = current ? `${current.results.length}/${caseNames.length} cases done` : 'window.__suite never appeared';
      throw new Error(`the browser suite did not finish within ${SUITE_TIMEOUT_MS / 1000} s (${progress})`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function runSuiteInChromium(): Promise<SuiteReport> {
  const started = performance.now();
  chromium = await startChromium();
  const page = await chromium.browser.newPage();
  forwardPageErrors(page);
  await page.goto(chromium.origin + PAGE_PATH, { waitUntil: 'load' });
  const result = await waitForSuite(page);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.info(
    `browser suite: ${result.results.length}/${caseNames.length} cases (of the ${suiteNames.length} Node runs) in ${seconds} s (startup included) on ${result.adapter || 'no adapter'}`,
  );
  const slowest = [...result.results].sort((a, b) => b.ms - a.ms).slice(0, SLOWEST_SHOWN);
  console.info(`slowest cases: ${slowest.map((r) => `${r.name} ${(r.ms / 1000).toFixed(1)} s`).join('; ')}`);
  return result;
}

/** The page's report, or the reason there is none (thrown, so the calling test fails). */
function suiteReport(): SuiteReport {
  if (setupError) throw new Error('the browser suite could not run', { cause: setupError });
  return report!;
}

beforeAll(async () => {
  try {
    report = await runSuiteInChromium();
  } catch (error) {
    setupError = error;
  }
}, SUITE_TIMEOUT_MS + STARTUP_MS);

afterAll(async () => {
  await chromium?.close();
});

describe('WebGPU in headless Chromium agrees with PyTorch and the CPU reference', () => {
  it('runs on a real WebGPU adapter', () => {
    const r = suiteReport();
    if (r.fatal) throw new Error(`the page could not run the suite: ${r.fatal}`);
    console.info(`adapter: ${r.adapter} (fallback adapter: ${r.isFallbackAdapter})`);
    expect(r.adapter).not.toBe('');
  });

  it.each(caseNames.map((name, i) => [name, i] as const))('%s', (name, i) => {
    const r = suiteReport();
    const result = r.results[i];
    if (!result) throw new Error(`no result for this case${r.fatal ? `; the suite stopped: ${r.fatal}` : ''}`);
    expect(result.name, 'the page ran the same selection of the suite').toBe(name);
    if (!result.ok) throw new Error(`failed in the browser:\n${result.error}`);
    expect(result.note).toMatch(CHECKED_NOTE);
  });
});
