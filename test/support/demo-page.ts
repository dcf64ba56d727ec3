/**
 * The built demo in headless Chromium, for the page tests (test/demo*.test.ts): the files of DEMO_DIST
 * (default dist-demo/, `vite build --mode demo`) served on 127.0.0.1 (WebGPU needs a secure context:
 * localhost is one), a browser with its own profile, a page whose console errors are collected, the
 * page's published state (`window.__demo`) and screenshots into test-artifacts/.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer';
import type { DemoState } from '../../demo/ui.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The built demo: DEMO_DIST (a build elsewhere, leaving dist-demo/ alone) or dist-demo/. */
export const DIST = process.env.DEMO_DIST ?? join(ROOT, 'dist-demo');
export const ARTIFACTS = join(ROOT, 'test-artifacts');
/** Chromium's flag for WebGPU (on SwiftShader here); without it the page runs on the CPU backend. */
export const WEBGPU = ['--enable-unsafe-webgpu'];
const BASE_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.map': 'application/json',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};

/** Serves DIST on 127.0.0.1; resolves with its origin and a close function. */
export async function serveDemo(): Promise<{ origin: string; close: () => Promise<void> }> {
  if (!existsSync(join(DIST, 'index.html'))) throw new Error(`${DIST}/index.html is missing: run \`npm run build:demo\` (scripts/test.sh does)`);
  const server: Server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(DIST, path.endsWith('/') ? `${path}index.html` : path);
    readFile(file).then(
      (body) => {
        res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
        res.end(body);
      },
      () => {
        res.writeHead(404);
        res.end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A headless Chromium with `args` (WEBGPU, or none for the CPU backend) and a fresh profile, closed after `body`. */
export async function withBrowser(args: string[], body: (browser: Browser) => Promise<void>): Promise<void> {
  const profile = await mkdtemp(join(tmpdir(), 'webgpu-rnn-demo-'));
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [...BASE_ARGS, ...args, `--user-data-dir=${profile}`],
    protocolTimeout: 600_000,
  });
  try {
    await body(browser);
  } finally {
    // A browser whose GPU process is stuck in a long SwiftShader job can take minutes to close: after
    // CLOSE_MS it is killed, so a test ends with its own result instead of its timeout.
    await within('closing Chromium', CLOSE_MS, browser.close()).catch(() => browser.process()?.kill('SIGKILL'));
    await rm(profile, { recursive: true, force: true });
  }
}

const CLOSE_MS = 15_000;

/**
 * `work`, or an error naming `what` and the seconds it was given. The page tests run their stages
 * through it (with the stages' times so far in `log`), so a stalled page fails at the stage that
 * stalled, with the times before it, instead of at the test's timeout with no clue where.
 */
export async function within<T>(what: string, ms: number, work: Promise<T>, log: string[] = []): Promise<T> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done after ${ms / 1000} s${log.length ? ` (before it: ${log.join(', ')})` : ''}`)), ms);
  });
  try {
    const result = await Promise.race([work, late]);
    log.push(`${what} ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return result;
  } finally {
    clearTimeout(timer);
  }
}

/** The page at `origin/index.html?…` (`query` with its "?"), once it has found its backend; its console errors collected. */
export async function openDemo(
  browser: Browser,
  origin: string,
  query: string,
  options: { width?: number; height?: number; before?: (page: Page) => Promise<unknown> } = {},
): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  await options.before?.(page);
  await page.setViewport({ width: options.width ?? 1200, height: options.height ?? 900 });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`${String(e)}\n${(e as Error).stack ?? ''}`));
  await page.goto(`${origin}/index.html${query}`);
  await page.waitForFunction(() => window.__demo?.backend !== undefined, { timeout: 60_000 });
  return { page, errors };
}

/** What the page publishes on window.__demo. */
export const demoState = (page: Page) => page.evaluate(() => window.__demo as DemoState);

/** A screenshot of the element `#id` into test-artifacts/<name>.png. */
export async function screenshot(page: Page, id: string, name: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  await (await page.$(`#${id}`))!.screenshot({ path: join(ARTIFACTS, `${name}.png`) as `${string}.png` });
}
