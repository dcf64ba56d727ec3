/**
 * Page test of the gates, overfitting and bidirectional panels (the built demo in headless Chromium,
 * WebGPU on SwiftShader; `DEMO_DIST` for a build elsewhere). It drives the three panels with small
 * settings and asserts what each teaches, from the numbers the page publishes on `window.__demo`:
 *   - gates: every σ gate in (0, 1), every tanh value in (−1, 1), and the evaluator's hₜ equal to the
 *     library's own forward pass on the GPU (float32) at every character;
 *   - overfitting: without dropout the held-out loss turns up, and dropout narrows the kept model's
 *     gap (held-out minus training loss, both measured without dropout);
 *   - bidirectional: the bidirectional GRU restores more hidden characters than the left-to-right one;
 * then the captions in Chinese after the switch, no console errors, and a screenshot of each panel in
 * English and Chinese (test-artifacts/). Without WebGPU (the CPU backend, its trainers in Web Workers)
 * the same three panels, the same assertions.
 */
import type { Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEBGPU, demoState, openDemo, screenshot, serveDemo, withBrowser } from './support/demo-page.js';

let server: Awaited<ReturnType<typeof serveDemo>>;
beforeAll(async () => {
  server = await serveDemo();
});
afterAll(async () => {
  await server?.close();
});

async function setValue(page: Page, id: string, value: string): Promise<void> {
  await page.$eval(
    `#${id}`,
    (e, v) => {
      (e as HTMLInputElement).value = v;
      e.dispatchEvent(new Event('change', { bubbles: true }));
    },
    value,
  );
}

const CJK = /[\u4e00-\u9fff]/;

/** Each symbol's values (characters × units): σ gates (i, f, o) in (0, 1), tanh values (g, h) in (−1, 1). */
function expectGateRanges(values: Record<string, number[][]>, chars: number, units: number): void {
  for (const [symbol, rows] of Object.entries(values)) {
    expect(rows, symbol).toHaveLength(chars);
    for (const row of rows) expect(row, symbol).toHaveLength(units);
    const flat = rows.flat();
    if ('ifo'.includes(symbol))
      expect(
        flat.every((v) => v > 0 && v < 1),
        symbol,
      ).toBe(true);
    if ('gh'.includes(symbol))
      expect(
        flat.every((v) => v > -1 && v < 1),
        symbol,
      ).toBe(true);
  }
}

type PanelKey = 'gates' | 'overfitting' | 'bidirectional';

/**
 * Clicks `button`, waits until the page publishes `key` on window.__demo or shows the panel's error
 * (`#<prefix>-error`), and returns the published result; the test fails with the error's text if none came.
 */
async function panelResult<K extends PanelKey>(page: Page, button: string, prefix: string, key: K, timeout: number) {
  await page.click(`#${button}`);
  await page.waitForFunction(
    (k: string, p: string) => (window.__demo as Record<string, unknown> | undefined)?.[k] !== undefined || !document.getElementById(`${p}-error`)!.hidden,
    { timeout },
    key,
    prefix,
  );
  const result = (await demoState(page))[key];
  expect(result, await page.$eval(`#${prefix}-error`, (e) => e.textContent ?? '')).toBeDefined();
  return result!;
}

/** Gates, before any model: the panel says so beside the button; then an untrained LSTM of its own. */
async function freshGates(page: Page, lap: (what: string) => void) {
  await page.click('#gt-run');
  await page.waitForFunction(() => !document.getElementById('gt-error')!.hidden);
  expect(await page.$eval('#gt-error', (e) => e.textContent)).toMatch(/No next-character model yet/);
  const fresh = await panelResult(page, 'gt-fresh', 'gt', 'gates', 60_000);
  lap('gates (untrained cell)');
  expect(fresh.source).toBe('fresh');
  expect(fresh.chars.join('')).toBe('今天天气很好。');
  expect(Object.keys(fresh.values)).toEqual(['i', 'f', 'g', 'o', 'c', 'h']);
  expectGateRanges(fresh.values, 7, fresh.hidden);
  // The float64 evaluator against the GPU's float32 forward pass of the same weights, every character and unit.
  expect.soft(fresh.hError).toBeLessThan(1e-4);
  expect(await page.$$eval('#gt-maps canvas', (c) => c.length)).toBe(6);

  return fresh;
}

/** Overfitting: the held-out loss turns up without dropout, and dropout narrows the kept model's gap. */
async function overfitting(page: Page, lap: (what: string) => void, recurrent = '0') {
  // Both runs to at most 45 steps, early stopping with patience 2; dropout 0.5 between the layers, and
  // `recurrent` on h_{t−1} (on WebGPU 0: recurrent dropout's extra kernels would double this panel's
  // time on SwiftShader, where compiling them is most of it).
  await setValue(page, 'of-steps', '45');
  await setValue(page, 'of-recurrent', recurrent);
  await setValue(page, 'of-patience', '2');
  const of = await panelResult(page, 'of-run', 'of', 'overfitting', 120_000);
  lap('overfitting');
  // The held-out loss turned up after its best without dropout, and dropout narrowed the gap.
  expect.soft(Math.max(...of.curves[0].heldOut.slice(of.curves[0].heldOut.indexOf(of.plain.bestLoss)))).toBeGreaterThan(of.plain.bestLoss + 0.02);
  expect.soft(of.dropout.gap).toBeLessThan(of.plain.gap - 0.1);
  expect(await page.$eval('#of-caption', (e) => e.textContent)).toContain(of.plain.gap.toFixed(3));

  return of;
}

/** Bidirectional: the bidirectional GRU restores more hidden characters than the left-to-right one. */
async function bidirectional(page: Page, lap: (what: string) => void) {
  // Bidirectional: 20 steps each (one measurement, the panel's first).
  await setValue(page, 'bi-steps', '20');
  const bi = await panelResult(page, 'bi-run', 'bi', 'bidirectional', 120_000);
  lap('bidirectional');
  expect(bi.finalStep).toBe(20);
  expect.soft(bi.bi.accuracy).toBeGreaterThan(bi.uni.accuracy + 0.1);
  expect.soft(bi.uni.accuracy).toBeGreaterThan(bi.baseline);
  expect(bi.bi.params).toBeGreaterThan(bi.uni.params);

  return bi;
}

describe('demo: gates, overfitting and bidirectional panels', () => {
  it('on WebGPU: measure what each panel teaches, in English and Chinese', async () => {
    await withBrowser(WEBGPU, async (browser) => {
      const started = performance.now();
      const lap = (what: string) => console.log(`${what}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
      const { page, errors } = await openDemo(browser, server.origin, '?lang=en&steps=10');
      expect((await demoState(page)).backend).toBe('webgpu');
      lap('page');

      const fresh = await freshGates(page, lap);
      const of = await overfitting(page, lap);
      const bi = await bidirectional(page, lap);

      // The next-character panel's model (an LSTM of 32 units, made by New model) through the shared hook: the fresh
      // cell's width, so that its forward pipelines are compiled already (each new one costs seconds on SwiftShader;
      // training it would compile more). Made as the fresh cell is (seed 1, forget bias 1), it is that cell.
      await setValue(page, 'nc-hidden', '32');
      await page.click('#nc-reset');
      await page.waitForFunction(() => window.__demo?.nextChar?.probabilities !== undefined, { timeout: 60_000 });
      await page.click('#gt-run');
      await page.waitForFunction(() => window.__demo?.gates?.source === 'trained' || !document.getElementById('gt-error')!.hidden, { timeout: 30_000 });
      const gates = (await demoState(page)).gates!;
      lap('gates (next-character model)');
      expect(gates.source, await page.$eval('#gt-error', (e) => e.textContent ?? '')).toBe('trained');
      expect([gates.mode, gates.hidden]).toEqual(['LSTM', 32]);
      expect(await page.$eval('#gt-source', (e) => e.textContent)).toMatch(/^The next-character panel's LSTM: 32 units, 1 layer\(s\), trained 0 steps\./);
      expect(gates.values, 'the same seeded cell, read through the shared model').toEqual(fresh.values);
      expect(Object.keys(gates.values)).toEqual(['i', 'f', 'g', 'o', 'c', 'h']);
      expectGateRanges(gates.values, 7, 32);
      expect.soft(gates.hError).toBeLessThan(1e-4);

      console.log(
        `gates: hₜ vs the GPU ${fresh.hError.toExponential(1)} (untrained), ${gates.hError.toExponential(1)} (next-character model); ` +
          `overfitting: best held-out ${of.plain.bestLoss.toFixed(3)} at step ${of.plain.bestStep} / ${of.dropout.bestLoss.toFixed(3)} at ${of.dropout.bestStep}, ` +
          `gap at step ${of.gapStep} ${of.plain.gap.toFixed(3)} / ${of.dropout.gap.toFixed(3)}; ` +
          `bidirectional: ${bi.uni.accuracy.toFixed(3)} / ${bi.bi.accuracy.toFixed(3)} (floor ${bi.baseline.toFixed(3)})`,
      );
      for (const id of ['gates', 'overfitting', 'bidirectional']) await screenshot(page, id, `lessons-${id}-en`);
      // The switch re-words the captions and the gate labels with the same numbers, in place.
      await page.click('#language button[data-lang="zh"]');
      for (const id of ['gt-caption', 'of-caption', 'bi-caption', 'gates-title', 'overfitting-title', 'bidirectional-title']) {
        const text = await page.$eval(`#${id}`, (e) => e.textContent ?? '');
        expect(text, id).toMatch(CJK);
      }
      expect(await page.$eval('#of-caption', (e) => e.textContent)).toContain(of.dropout.gap.toFixed(3));
      expect(await page.$eval('#gt-maps figcaption', (e) => e.textContent)).toContain('输入门');
      for (const id of ['gates', 'overfitting', 'bidirectional']) await screenshot(page, id, `lessons-${id}-zh`);
      expect(errors).toEqual([]);
      lap('done');
    });
  }, 180_000);

  it('without WebGPU (the CPU backend, in Web Workers): the same three lessons', async () => {
    await withBrowser([], async (browser) => {
      const started = performance.now();
      const lap = (what: string) => console.log(`CPU ${what}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
      const { page, errors } = await openDemo(browser, server.origin, '?lang=en&steps=10');
      expect((await demoState(page)).backend).toBe('cpu');
      const fresh = await freshGates(page, lap);
      // With the page's own recurrent dropout (0.3 on h_{t−1}) as well: cheap on the CPU backend.
      const of = await overfitting(page, lap, '0.3');
      const bi = await bidirectional(page, lap);
      console.log(
        `CPU: gates hₜ vs the library ${fresh.hError.toExponential(1)}; overfitting gap at step ${of.gapStep} ${of.plain.gap.toFixed(3)} / ${of.dropout.gap.toFixed(3)}; ` +
          `bidirectional ${bi.uni.accuracy.toFixed(3)} / ${bi.bi.accuracy.toFixed(3)} (floor ${bi.baseline.toFixed(3)})`,
      );
      expect(errors).toEqual([]);
    });
  }, 180_000);
});
