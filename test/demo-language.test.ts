/**
 * The demo in Chinese and English, in headless Chromium on the CPU backend (the language work is the
 * same on either backend, and the CPU one starts in a second): a Chinese browser gets the page in
 * Chinese, as does ?lang=zh in an English one; no visible text in the Chinese page is English (names
 * such as LSTM, WebGPU or ONNX, units and code aside); the switch turns every heading to English and
 * back in place — a gradient-flow run's caption follows with the same numbers, and a next-character
 * training started in one language finishes in the other, none of it reloaded; the choice is
 * remembered; no console errors. Screenshots of the top of the page in both languages.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { en } from '../demo/strings/en.js';
import { zh } from '../demo/strings/zh.js';
import { SHAPES } from '../src/bench/shapes.js';
import { TRAIN_SHAPES } from '../src/bench/train-shapes.js';
import { ARTIFACTS, WEBGPU, demoState, openDemo, screenshot, serveDemo, withBrowser } from './support/demo-page.js';

/** The page's original panels, each screenshotted in both languages. */
const PANELS = ['next-char', 'gradient-flow', 'forecast', 'dates', 'speed'];

/** The benchmark's shape names (identifiers, the same in every language), longest first. */
const SHAPE_NAMES = [...SHAPES.map((s) => s.name), ...TRAIN_SHAPES.flatMap((s) => [s.name, s.name.replace('train-', '')])].sort((a, b) => b.length - a.length);

let site: Awaited<ReturnType<typeof serveDemo>>;
beforeAll(async () => {
  site = await serveDemo();
});
afterAll(async () => {
  await site?.close();
});

/** The visible headings: their text and the key they show. */
const headings = (page: Page) =>
  page.$$eval('h2, h3', (hs) => hs.filter((h) => h.checkVisibility()).map((h) => ({ key: (h as HTMLElement).dataset.i18n, text: h.textContent!.trim() })));

/**
 * The English words left in the visible text of the page: each text node outside code, scripts and
 * elements marked lang="en" (the switch's "English", English example dates), less the names and units
 * that stay as they are in Chinese.
 */
const englishLeft = (page: Page) =>
  page.evaluate((identifiers: string[]) => {
    const KEPT = new Set(
      'LSTM GRU RNN RNNs WebGPU ONNX PyTorch TensorFlow js webgpu rnn CPU GPU float tanh safetensors UTF txt Adam SGD RMSprop YYYY MM DD IndexedDB Web Worker Debian fortunes zh navigator gpu ms lr nat nats ln'.split(
        ' ',
      ),
    );
    const left: string[] = [];
    const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      const e = n.parentElement;
      if (!e || e.closest('script, style, code, pre, [lang="en"]') || !e.checkVisibility()) continue;
      let text = n.textContent ?? '';
      for (const name of [...identifiers, window.__demo?.adapter ?? '']) if (name) text = text.split(name).join(' ');
      const words = text.match(/[A-Za-z]{2,}/g)?.filter((w) => !KEPT.has(w)) ?? [];
      if (words.length) left.push(`${e.id ? `#${e.id}` : e.tagName.toLowerCase()}: ${n.textContent!.trim().slice(0, 80)}`);
    }
    return left;
  }, SHAPE_NAMES);

async function topScreenshot(page: Page, name: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) as `${string}.png` });
}

const switchTo = (page: Page, lang: 'zh' | 'en') => page.click(`#language button[data-lang="${lang}"]`);

describe('the demo in Chinese and English', () => {
  it('follows a Chinese browser', async () => {
    await withBrowser(['--lang=zh-CN', '--accept-lang=zh-CN,zh'], async (browser) => {
      const { page, errors } = await openDemo(browser, site.origin, '', { before: (p) => p.setExtraHTTPHeaders({ 'Accept-Language': 'zh-CN,zh' }) });
      expect(await page.evaluate(() => navigator.language)).toMatch(/^zh/);
      expect(await page.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
      expect(await page.$eval('#next-char-title', (e) => e.textContent)).toBe(zh['nc.title']);
      expect(await page.$eval('#backend', (e) => e.textContent)).toMatch(/^这里没有 WebGPU——/);
      expect(await page.$eval('#language button[data-lang="zh"]', (b) => b.getAttribute('aria-pressed'))).toBe('true');
      expect(errors).toEqual([]);
      await page.close();
    });
  });

  it('on WebGPU too: the notice of the adapter in Chinese', async () => {
    await withBrowser([...WEBGPU, '--accept-lang=zh-CN,zh'], async (browser) => {
      const { page, errors } = await openDemo(browser, site.origin, '');
      expect((await demoState(page)).backend).toBe('webgpu');
      expect(await page.$eval('#backend', (e) => e.textContent)).toMatch(/^正在通过 WebGPU 在你的 GPU 上运行：.+（这是软件模拟的后备适配器，会比较慢）。$/);
      expect(await englishLeft(page), 'English left in the Chinese page on WebGPU').toEqual([]);
      await switchTo(page, 'en');
      expect(await page.$eval('#backend', (e) => e.textContent)).toMatch(
        /^Running on your GPU through WebGPU: .+ \(a software fallback adapter: expect it to be slow\)\.$/,
      );
      expect(errors).toEqual([]);
      await page.close();
    });
  });

  it('?lang=zh in an English browser: all Chinese; the switch turns every heading to English and back, in place, keeping a run and a training', async () => {
    await withBrowser(['--lang=en-US'], async (browser) => {
      const t0 = Date.now();
      const { page, errors } = await openDemo(browser, site.origin, '?lang=zh&steps=30');
      expect(await page.evaluate(() => navigator.language)).toMatch(/^en/);
      await page.evaluate(() => Object.assign(window, { __notReloaded: true }));
      const zhHeadings = await headings(page);
      expect(zhHeadings.length).toBeGreaterThanOrEqual(5);
      for (const h of zhHeadings) if (h.key) expect(h.text).toBe(zh[h.key as keyof typeof zh]);
      expect(await englishLeft(page), 'English left in the Chinese page').toEqual([]);
      await topScreenshot(page, 'demo-language-zh');

      // A gradient-flow run, small: its caption is worded in Chinese from the run's numbers.
      await page.$eval('#gf-length', (e) => ((e as HTMLInputElement).value = '30'));
      await page.$eval('#gf-hidden', (e) => ((e as HTMLInputElement).value = '8'));
      await page.click('#gf-run');
      await page.waitForFunction(() => window.__demo?.gradientFlow !== undefined && !(document.getElementById('gf-run') as HTMLButtonElement).disabled, {
        timeout: 60_000,
      });
      const flows = (await demoState(page)).gradientFlow!;
      const zhCaption = await page.$eval('#gf-caption', (e) => e.textContent!);
      expect(zhCaption).toMatch(/^‖∂L\/∂h_t‖ 随步 t 的变化，对数刻度。最后一步（t = 30）的梯度，传到第一步时只剩：/);

      // A small next-character training, switched to English while it runs.
      await page.$eval('#nc-hidden', (e) => ((e as HTMLInputElement).value = '16'));
      await page.click('#nc-train');
      await page.waitForFunction(() => (window.__demo?.nextChar?.steps ?? 0) > 0 && window.__demo!.nextChar!.training, { timeout: 60_000, polling: 100 });
      expect(await page.$eval('#nc-stats', (e) => e.textContent)).toMatch(/^第 \d+ 步 · 损失 /);
      await switchTo(page, 'en');
      expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
      const enHeadings = await headings(page);
      expect(enHeadings.length).toBe(zhHeadings.length);
      enHeadings.forEach((h, i) => {
        expect(h.text, 'a heading left as it was').not.toBe(zhHeadings[i].text);
        if (h.key) expect(h.text).toBe(en[h.key as keyof typeof en]);
      });
      // The same run, worded in English: the same numbers, nothing run again.
      const enCaption = await page.$eval('#gf-caption', (e) => e.textContent!);
      expect(enCaption).toMatch(/^‖∂L\/∂h_t‖ against the step t, log scale\. Of the gradient at the last step \(t = 30\), the first step receives /);
      const numbers = (s: string) => s.match(/\d+\.\d+e[-+]\d+/g);
      expect(numbers(enCaption)).toEqual(numbers(zhCaption));
      expect((await demoState(page)).gradientFlow).toEqual(flows);
      await topScreenshot(page, 'demo-language-en');
      for (const id of PANELS) await screenshot(page, id, `demo-${id}-en`);

      await page.waitForFunction(() => window.__demo?.nextChar?.steps === 30 && !window.__demo.nextChar.training, { timeout: 120_000, polling: 200 });
      const nc = (await demoState(page)).nextChar!;
      expect(nc.loss!).toBeLessThan(nc.unigram + 1); // it trained on, to a finite loss
      expect(await page.$eval('#nc-stats', (e) => e.textContent)).toMatch(/^step 30 · loss \d/);
      expect(await page.$eval('#nc-train', (e) => e.textContent)).toBe(en['common.resume']);

      await switchTo(page, 'zh');
      expect(await headings(page)).toEqual(zhHeadings);
      expect(await page.$eval('#nc-stats', (e) => e.textContent)).toMatch(/^第 30 步 · 损失 \d/);
      expect(await page.$eval('#nc-train', (e) => e.textContent)).toBe(zh['common.resume']);
      expect(await englishLeft(page), 'English left in the Chinese page after the runs').toEqual([]);
      for (const id of PANELS) await screenshot(page, id, `demo-${id}-zh`);
      expect(await page.evaluate(() => (window as Window & { __notReloaded?: boolean }).__notReloaded)).toBe(true);

      // Remembered: the page opens again in the language last chosen, without ?lang=.
      await switchTo(page, 'en');
      const again = await openDemo(browser, site.origin, '');
      expect(await again.page.$eval('#next-char-title', (e) => e.textContent)).toBe(en['nc.title']);
      await switchTo(again.page, 'zh');
      const third = await openDemo(browser, site.origin, '');
      expect(await third.page.$eval('#next-char-title', (e) => e.textContent)).toBe(zh['nc.title']);
      expect([...errors, ...again.errors, ...third.errors]).toEqual([]);
      console.log(
        `language test: ${((Date.now() - t0) / 1000).toFixed(1)} s; ${enHeadings.length} headings switched; CPU training 30 steps, loss ${nc.loss?.toFixed(3)} (unigram ${nc.unigram.toFixed(3)})`,
      );
    });
  });
});
