/**
 * The encoder–decoder's accuracy target, trained in real headless Chromium: test/browser/dates.html
 * trains TensorFlow.js's date model for two epochs of the date task on navigator.gpu and publishes
 * `window.__dates`. A file of its own (not test/browser.test.ts's) so that its minutes run beside the
 * other files rather than after the agreement suite.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { DatesReport } from './browser/dates.js';
import { type ChromiumPages, forwardPageErrors, startChromium } from './support/chromium.js';

let chromium: ChromiumPages | undefined;

afterAll(async () => {
  await chromium?.close();
});

/** Two epochs of the date model on a 2-core software adapter take minutes. */
const DATES_TIMEOUT_MS = 15 * 60_000;

describe('an encoder–decoder trained in headless Chromium', () => {
  it(
    'reaches ≥ 99.5% exact match on held-out dates within two epochs of the date task (test/browser/dates.ts)',
    async () => {
      chromium = await startChromium();
      const page = await chromium.browser.newPage();
      forwardPageErrors(page);
      try {
        const started = performance.now();
        await page.goto(`${chromium.origin}/test/browser/dates.html`, { waitUntil: 'load' });
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
