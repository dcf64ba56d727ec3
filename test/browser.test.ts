/**
 * The GPU agreement suite in real headless Chromium: vite serves the repository, puppeteer opens
 * test/browser/index.html, the page runs every case of test/suites/gpu-agreement.ts on
 * navigator.gpu and publishes `window.__suite`; each case becomes one vitest test here.
 *
 * Anything that stops the page from running (no WebGPU, no adapter, server or browser failing to
 * start) fails every test with the reason. It never skips: a hook error in vitest would only mark
 * the tests skipped, so setup errors are caught and rethrown by the tests themselves.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer';
import { type ViteDevServer, createServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SuiteReport } from './browser/run-suite.js';
import { loadManifest } from './support/fixtures.js';
import { loadNodeBytes } from './support/node-fixtures.js';
import { trainingManifests } from './support/training-fixtures.js';
import type { DatesReport } from './browser/dates.js';
import { CHECKED_NOTE, gpuAgreementCaseNames } from './suites/gpu-agreement.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PAGE_PATH = '/test/browser/index.html';

/**
 * `--enable-unsafe-webgpu` is the one flag WebGPU needs here: without it Chromium 156 on Linux
 * exposes navigator.gpu but requestAdapter() resolves to null; with it, Dawn falls back to
 * SwiftShader (Vulkan on the CPU, shipped with Chromium) when the machine has no GPU.
 * `--no-sandbox` because the tests may run as root in a container; the rest keep the browser
 * from reaching the network or doing background work while it is timed.
 */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

/** The whole suite on a 2-core software adapter takes seconds; this bounds a hung GPU. */
const SUITE_TIMEOUT_MS = 10 * 60_000;
const POLL_MS = 250;
/** Time to start vite and Chromium, on top of the suite. */
const STARTUP_MS = 60_000;

const manifest = await loadManifest(loadNodeBytes);
const caseNames = gpuAgreementCaseNames(manifest, await trainingManifests(loadNodeBytes));

let server: ViteDevServer | undefined;
let origin: string | undefined;
let browser: Browser | undefined;
let userDataDir: string | undefined;
let report: SuiteReport | undefined;
let setupError: unknown;

async function startServer(): Promise<string> {
  server = await createServer({
    root: ROOT,
    configFile: join(ROOT, 'vite.config.ts'),
    logLevel: 'warn',
    clearScreen: false,
    // No HMR, no watcher: another process editing sources mid-run must not reload the page.
    server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false, watch: null },
  });
  await server.listen();
  const { port } = server.httpServer!.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

/** Sends the page's errors and warnings to the test output, where a failure will be read. */
function forwardPageErrors(page: Page): void {
  page.on('console', (message) => {
    const type = message.type();
    if (type === 'error' || type === 'warn')
      console.error(`[chromium ${type}] ${message.text()}${message.location().url ? ` (${message.location().url})` : ''}`);
  });
  page.on('pageerror', (error) => console.error('[chromium pageerror]', error));
  page.on('requestfailed', (request) => console.error(`[chromium requestfailed] ${request.url()}: ${request.failure()?.errorText}`));
}

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
  origin = await startServer();
  userDataDir = await mkdtemp(join(tmpdir(), 'webgpu-rnn-chromium-'));
  browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    userDataDir,
    args: CHROMIUM_ARGS,
  });
  const page = await browser.newPage();
  forwardPageErrors(page);
  await page.goto(origin + PAGE_PATH, { waitUntil: 'load' });
  const result = await waitForSuite(page);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.info(`browser suite: ${result.results.length}/${caseNames.length} cases in ${seconds} s (startup included) on ${result.adapter || 'no adapter'}`);
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
  // Each step on its own, so one failing does not leave the others running.
  await browser?.close().catch((error) => console.error('closing Chromium:', error));
  await server?.close().catch((error) => console.error('closing the vite server:', error));
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
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
    expect(result.name, 'the page ran the same case list as Node').toBe(name);
    if (!result.ok) throw new Error(`failed in the browser:\n${result.error}`);
    expect(result.note).toMatch(CHECKED_NOTE);
  });
});

/** Two epochs of the date model on a 2-core software adapter take minutes. */
const DATES_TIMEOUT_MS = 15 * 60_000;

describe('an encoder–decoder trained in headless Chromium', () => {
  it(
    'reaches ≥ 99.5% exact match on held-out dates within two epochs of the date task (test/browser/dates.ts)',
    async () => {
      if (setupError || !browser || !origin) throw new Error('Chromium could not start', { cause: setupError });
      const page = await browser.newPage();
      forwardPageErrors(page);
      try {
        const started = performance.now();
        await page.goto(`${origin}/test/browser/dates.html`, { waitUntil: 'load' });
        const deadline = Date.now() + DATES_TIMEOUT_MS;
        let r: DatesReport | undefined;
        for (;;) {
          r = await page.evaluate(() => window.__dates);
          if (r?.done) break;
          if (Date.now() > deadline)
            throw new Error(`no result within ${DATES_TIMEOUT_MS / 1000} s (${r ? `${r.steps} steps` : 'window.__dates never appeared'})`);
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
        if (r.error) throw new Error(`the page failed: ${r.error}`);
        const wall = ((performance.now() - started) / 1000).toFixed(0);
        console.info(
          `dates in Chromium: ${r.steps} steps; exact match on 1,000 held-out dates ${r.accuracy.map((a, e) => `${(100 * a).toFixed(1)}% after epoch ${e + 1} (${r!.seconds[e].toFixed(0)} s)`).join(', ')}; ${wall} s wall with the page's start; e.g. ${r.example}`,
        );
        expect(r.accuracy).toHaveLength(2);
        expect(r.accuracy[1]).toBeGreaterThanOrEqual(0.995);
      } finally {
        await page.close();
      }
    },
    DATES_TIMEOUT_MS + 60_000,
  );
});
