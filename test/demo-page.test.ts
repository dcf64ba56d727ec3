/**
 * The demo page's behaviour (issue #22, "a page that does not freeze and does not mislead"), in headless
 * Chromium on the built page (DEMO_DIST or dist-demo/):
 *  - without WebGPU the next-character model trains in a Web Worker: the page answers clicks on other
 *    controls within 200 ms while it trains, the chart grows live, and Stop ends the Train at once;
 *  - Stop is enabled the moment Train is pressed, and the model's controls are locked while it trains,
 *    with the reason shown; changed controls after a Train say that Train would start a new model;
 *  - loaded weights set the controls to the model they hold;
 *  - a corpus brings its own prompt and the previous bars go; a prompt the model cannot read greys the
 *    chart out instead of showing the last distribution;
 *  - the page does not overflow sideways when narrowed to 800 and 600 px, the charts show a "press Train" placeholder before
 *    their first run, the speed panel lists its shapes' sizes; no console errors.
 * With WebGPU (SwiftShader): Stop is enabled at the press, and Stop while the pipelines compile ends the
 * Train before it goes on.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ElementHandle, Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEBGPU, demoState, openDemo, screenshot, serveDemo, withBrowser } from './support/demo-page.js';

let origin = '';
let close: (() => Promise<void>) | undefined;
beforeAll(async () => {
  ({ origin, close } = await serveDemo());
});
afterAll(async () => {
  await close?.();
});

const nextChar = async (page: Page) => (await demoState(page)).nextChar!;
const disabled = (page: Page, id: string) => page.$eval(`#${id}`, (e) => (e as HTMLButtonElement).disabled);
const hidden = (page: Page, id: string) => page.$eval(`#${id}`, (e) => (e as HTMLElement).hidden);
const text = (page: Page, id: string) => page.$eval(`#${id}`, (e) => e.textContent ?? '');
const setValue = (page: Page, id: string, value: string) =>
  page.$eval(
    `#${id}`,
    (e, v) => {
      (e as HTMLInputElement).value = v;
      e.dispatchEvent(new Event('input', { bubbles: true }));
      e.dispatchEvent(new Event('change', { bubbles: true }));
    },
    value,
  );
/** The overlay over a chart (its placeholder or why it is greyed out), and whether it is greyed out. */
const overlay = (page: Page, id: string) =>
  page.$eval(`#${id}`, (e) => {
    const o = e.querySelector('.chart-overlay') as HTMLElement | null;
    return { text: o && !o.hidden ? (o.textContent ?? '') : '', greyed: e.classList.contains('greyed') };
  });

/**
 * Milliseconds from a click on `selector` (sent by the test) to the page's handler seeing it: the
 * round trip of the click and of reading back the time the handler noted, as a user would wait for
 * the page to react.
 */
async function clickLatency(page: Page, selector: string): Promise<number> {
  await page.evaluate((s) => {
    const w = window as unknown as { __clicked?: number };
    w.__clicked = undefined;
    document.querySelector(s)!.addEventListener('click', () => (w.__clicked = performance.now()), { once: true });
  }, selector);
  const t0 = Date.now();
  await page.click(selector);
  await page.waitForFunction(() => (window as unknown as { __clicked?: number }).__clicked !== undefined, { polling: 'raf', timeout: 30_000 });
  return Date.now() - t0;
}

describe('the demo page without WebGPU (the CPU backend, in a worker)', () => {
  it('answers clicks while it trains, Stop stops it, the controls say what Train will do, prompts and bars stay truthful, nothing overflows', async () => {
    await withBrowser([], async (browser) => {
      const t0 = Date.now();
      // Opened wide, then narrowed (two columns at 800 px, one at 600): the charts follow, nothing scrolls sideways.
      const { page, errors } = await openDemo(browser, origin, '?lang=en&steps=2000');
      expect((await demoState(page)).backend).toBe('cpu');
      for (const width of [800, 600]) {
        await page.setViewport({ width, height: 900 });
        await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
        const overflow = await page.evaluate(() => ({
          page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
          grids: [...document.querySelectorAll('.charts')].map((g) => g.scrollWidth - g.clientWidth),
        }));
        console.log(`${width} px: overflow ${overflow.page} px (page), ${overflow.grids.join(', ')} px (chart grids)`);
        expect(overflow.page).toBeLessThanOrEqual(0);
        for (const g of overflow.grids) expect(g).toBeLessThanOrEqual(0);
      }
      // Before the first run: the placeholders, and the axes drawn.
      expect((await overlay(page, 'nc-loss-chart')).text).toMatch(/Press Train/);
      expect((await overlay(page, 'nc-probs-chart')).text).toMatch(/Press Train/);
      expect((await overlay(page, 'gf-chart')).text).toMatch(/Press Run/);
      expect(await page.$$eval('#nc-loss-chart .u-axis', (a) => a.length)).toBe(2);
      expect(await page.$$eval('#sp-shape-list li', (l) => l.map((e) => e.textContent))).toContain(
        'voice-lstm: LSTM, input I 64, hidden H 128, 1 layer(s), batch B 1, sequence length T 100',
      );
      await page.setViewport({ width: 1200, height: 900 });

      // Train a small model; Stop is enabled at once, the model's controls are locked, with the reason.
      await setValue(page, 'nc-hidden', '16');
      await page.click('#nc-train');
      expect(await disabled(page, 'nc-stop')).toBe(false);
      await page.waitForFunction(() => (window.__demo?.nextChar?.steps ?? 0) >= 10, { timeout: 60_000, polling: 50 });
      expect(await disabled(page, 'nc-hidden')).toBe(true);
      expect(await disabled(page, 'nc-corpus')).toBe(true);
      expect(await disabled(page, 'nc-reset')).toBe(true);
      expect(await text(page, 'nc-settings-note')).toMatch(/locked while it trains/);
      // The page answers while the worker trains: clicks on another panel's control, and the chart grows.
      const latencies: number[] = [];
      for (let i = 0; i < 5; i++) latencies.push(await clickLatency(page, '#gf-forget'));
      const during = await nextChar(page);
      expect(during.training).toBe(true);
      expect(during.inWorker).toBe(true);
      const chartBefore = during.chartSteps!.length;
      await page.waitForFunction((n: number) => (window.__demo?.nextChar?.chartSteps?.length ?? 0) > n + 1, { timeout: 30_000, polling: 50 }, chartBefore);
      const sorted = [...latencies].sort((a, b) => a - b);
      console.log(`CPU page while training: click answered in ${latencies.join(', ')} ms (median ${sorted[2]})`);
      expect(sorted[2]).toBeLessThan(200);
      // Stop: the Train ends at once, far short of its 2,000 steps.
      const stopAt = Date.now();
      await page.click('#nc-stop');
      await page.waitForFunction(() => window.__demo?.nextChar?.training === false, { timeout: 10_000, polling: 20 });
      const stopped = await nextChar(page);
      console.log(
        `Stop ended the Train in ${Date.now() - stopAt} ms, at step ${stopped.steps}; loss ${stopped.loss?.toFixed(3)} (unigram ${stopped.unigram.toFixed(3)})`,
      );
      expect(stopped.steps).toBeLessThan(2000);
      expect(await disabled(page, 'nc-stop')).toBe(true);
      expect(await disabled(page, 'nc-hidden')).toBe(false);
      expect(await hidden(page, 'nc-settings-note')).toBe(true);
      expect((await overlay(page, 'nc-loss-chart')).text).toBe('');
      await page.waitForFunction(() => window.__demo?.nextChar?.probabilities?.prompt === '今天天气很', { timeout: 30_000 });

      // Another hidden size: Train would start a new model, and the page says so; set back, it resumes.
      await setValue(page, 'nc-hidden', '24');
      expect(await hidden(page, 'nc-settings-note')).toBe(false);
      expect(await text(page, 'nc-settings-note')).toMatch(/LSTM 16×1.*Train would start a new model/);
      expect(await text(page, 'nc-train')).toBe('Train a new model');
      await setValue(page, 'nc-hidden', '16');
      expect(await hidden(page, 'nc-settings-note')).toBe(true);
      expect(await text(page, 'nc-train')).toBe('Resume');

      // A prompt the model cannot read: the chart greys out and shows no distribution; a good one brings it back.
      await setValue(page, 'nc-prompt', '☃☃');
      await page.waitForFunction(() => window.__demo?.nextChar?.probabilities === undefined, { timeout: 10_000 });
      expect(await overlay(page, 'nc-probs-chart')).toEqual({ text: 'No distribution: the prompt holds characters this model cannot read.', greyed: true });
      expect(await hidden(page, 'nc-error')).toBe(false);
      await screenshot(page, 'next-char', 'demo-page-invalid-prompt');
      await setValue(page, 'nc-prompt', '今天');
      await page.waitForFunction(() => window.__demo?.nextChar?.probabilities?.prompt === '今天', { timeout: 30_000 });
      expect((await overlay(page, 'nc-probs-chart')).greyed).toBe(false);
      expect(await hidden(page, 'nc-error')).toBe(true);

      // The Tang poems bring 床前明月; the everyday bars go (the everyday model cannot read the poem's
      // characters, or shows its answer to the new prompt, never the old one's), and Train means a new model.
      await page.select('#nc-corpus', 'tang300');
      expect(await page.$eval('#nc-prompt', (e) => (e as HTMLInputElement).value)).toBe('床前明月');
      const after = await nextChar(page);
      expect(after.probabilities === undefined || after.probabilities.prompt === '床前明月').toBe(true);
      expect(after.settingsChanged).toBe(true);
      await page.select('#nc-corpus', 'everyday');
      expect(await page.$eval('#nc-prompt', (e) => (e as HTMLInputElement).value)).toBe('今天天气很');

      // Weights loaded set the controls to the model they hold.
      const downloads = await mkdtemp(join(tmpdir(), 'webgpu-rnn-demo-page-'));
      try {
        const cdp = await page.createCDPSession();
        await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
        await page.click('#nc-download');
        const file = join(downloads, 'next-char.safetensors');
        for (let i = 0; i < 100 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 100));
        await new Promise((r) => setTimeout(r, 200)); // written whole
        await page.select('#nc-mode', 'GRU');
        await setValue(page, 'nc-hidden', '24');
        await setValue(page, 'nc-layers', '2');
        await ((await page.$('#nc-load')) as ElementHandle<HTMLInputElement>).uploadFile(file);
        await page.waitForFunction(() => window.__demo?.nextChar?.steps === 0, { timeout: 30_000 });
        const controls = await page.$$eval('#nc-mode, #nc-hidden, #nc-layers', (es) => es.map((e) => (e as HTMLInputElement).value));
        expect(controls).toEqual(['LSTM', '16', '1']);
        expect(await hidden(page, 'nc-settings-note')).toBe(true);
      } finally {
        await rm(downloads, { recursive: true, force: true });
      }

      // The date model: settings changed after it was made are not silently ignored.
      await page.click('#dt-reset');
      await page.waitForFunction(() => !(document.getElementById('dt-train') as HTMLButtonElement).disabled, { timeout: 30_000 });
      expect(await hidden(page, 'dt-settings-note')).toBe(true);
      await setValue(page, 'dt-hidden', '32');
      expect(await text(page, 'dt-settings-note')).toMatch(/differ from the model \(LSTM 64, lr 0\.01\): Resume goes on training it as it is/);
      await setValue(page, 'dt-hidden', '64');
      expect(await hidden(page, 'dt-settings-note')).toBe(true);

      await screenshot(page, 'next-char', 'demo-page-next-char-en');
      await screenshot(page, 'speed', 'demo-page-speed-en');
      expect(errors).toEqual([]);
      await page.close();

      // The same page in Chinese: the placeholders, the notes and the shapes' sizes come from its table.
      const zh = await openDemo(browser, origin, '?lang=zh');
      expect((await overlay(zh.page, 'nc-loss-chart')).text).toBe('点“训练”：模型边学，损失曲线边画在这里。');
      expect(await zh.page.$$eval('#sp-shape-list li', (l) => l.map((e) => e.textContent))).toContain(
        'voice-lstm：LSTM，输入 I 64，隐藏 H 128，1 层，批大小 B 1，序列长度 T 100',
      );
      await screenshot(zh.page, 'next-char', 'demo-page-next-char-zh');
      await screenshot(zh.page, 'speed', 'demo-page-speed-zh');
      expect(zh.errors).toEqual([]);
      console.log(`CPU page test: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      await zh.page.close();
    });
  });
});

describe('the demo page with WebGPU', () => {
  it('enables Stop the moment Train is pressed, and Stop while the pipelines compile ends the Train', async () => {
    await withBrowser(WEBGPU, async (browser) => {
      const t0 = Date.now();
      const { page, errors } = await openDemo(browser, origin, '?lang=en&steps=500');
      expect((await demoState(page)).backend).toBe('webgpu');
      await setValue(page, 'nc-hidden', '8');
      await page.click('#nc-train');
      expect(await disabled(page, 'nc-stop')).toBe(false);
      await page.click('#nc-stop');
      await page.waitForFunction(() => window.__demo?.nextChar?.training === false, { timeout: 120_000, polling: 100 });
      const nc = await nextChar(page);
      console.log(`WebGPU: Stop pressed right after Train; the Train ended at step ${nc.steps} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      expect(nc.steps).toBeLessThanOrEqual(1);
      expect(nc.inWorker).toBe(false); // on WebGPU the trainer is the library's own, in the page
      expect(await disabled(page, 'nc-stop')).toBe(true);
      expect(errors).toEqual([]);
      await page.close();
    });
  });
});
