/**
 * The training lessons of the demo (cells side by side, exploding gradients and clipping, optimizers
 * and schedules), driven in headless Chromium on WebGPU (SwiftShader here) with tiny models and few
 * steps. Asserted: the science each panel shows — the ReLU RNN started at W_hh = 1.2·I diverges
 * without clipping (the library reports a non-finite step) and trains to the end with it; every other
 * configuration's loss is finite and falls; the recurrent parameter counts are PyTorch's (the
 * library's own parameter specs, counted here); each caption states the run's published numbers;
 * no console errors. Screenshots of the three panels in English and, after the switch, in Chinese.
 */
import type { Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zh } from '../demo/strings/zh.js';
import { en } from '../demo/strings/en.js';
import { type ModelConfigInput, modelParameterSpecs, resolveModelConfig } from '../src/index.js';
import { WEBGPU, demoState, openDemo, screenshot, serveDemo, withBrowser, within } from './support/demo-page.js';

const STEPS = 30;

let site: Awaited<ReturnType<typeof serveDemo>>;
beforeAll(async () => {
  site = await serveDemo();
});
afterAll(async () => {
  await site?.close();
});

const setValue = (page: Page, id: string, value: number) =>
  page.$eval(
    `#${id}`,
    (e, v) => {
      (e as HTMLInputElement).value = String(v);
    },
    value,
  );
const text = (page: Page, id: string) => page.$eval(`#${id}`, (e) => e.textContent ?? '');

/** The recurrent parameters of a one-layer model of this mode, counted from the library's own specs. */
function specCount(mode: 'RNN_TANH' | 'GRU' | 'LSTM', I: number, H: number): number {
  const model: ModelConfigInput = { rnn: { mode, input_size: I, hidden_size: H }, loss: 'mse' };
  return modelParameterSpecs(resolveModelConfig(model))
    .filter((s) => s.name.startsWith('rnn.'))
    .reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
}

/**
 * The English words in the visible text of the sections `ids`, outside code (the equations, ReLU,
 * clip_grad_norm_), less the names that stay as they are in Chinese and a non-finite number's name.
 */
const englishIn = (page: Page, ids: string[]) =>
  page.evaluate((ids: string[]) => {
    const KEPT = new Set(['LSTM', 'GRU', 'RNN', 'SGD', 'Adam', 'RMSprop', 'tanh', 'NaN', 'Infinity']);
    const left: string[] = [];
    for (const id of ids) {
      const walk = document.createTreeWalker(document.getElementById(id)!, NodeFilter.SHOW_TEXT);
      for (let n = walk.nextNode(); n; n = walk.nextNode()) {
        const e = n.parentElement;
        if (!e || e.closest('code') || !e.checkVisibility()) continue;
        const words = (n.textContent ?? '').match(/[A-Za-z]{2,}/g)?.filter((w) => !KEPT.has(w)) ?? [];
        if (words.length) left.push(`#${id}: ${words.join(' ')} in "${n.textContent!.trim().slice(0, 60)}"`);
      }
    }
    return left;
  }, ids);

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Each panel's deadline: its runs take 3–20 s here, alone or beside the rest of the suite. */
const PANEL_MS = 90_000;

/**
 * Sets the three panels small (STEPS steps; cells and optimizers at H 16) and trains them one after
 * another (each interleaves its own configurations step by step); `log` collects each stage's time.
 */
async function trainPanels(page: Page, log: string[]): Promise<void> {
  await setValue(page, 'cl-embedding', 8);
  await setValue(page, 'cl-hidden', 16);
  await setValue(page, 'cl-steps', STEPS);
  await setValue(page, 'cp-steps', STEPS);
  await setValue(page, 'op-hidden', 16);
  await setValue(page, 'op-steps', STEPS);
  const panels = [
    ['cl-train', 'cells'],
    ['cp-train', 'clipping'],
    ['op-train', 'optimizers'],
  ] as const;
  for (const [button, key] of panels) {
    await page.click(`#${button}`);
    expect(await page.$eval(`#${button.replace('train', 'stop')}`, (e) => (e as HTMLButtonElement).disabled), 'Stop from the press on').toBe(false);
    const done = page.waitForFunction(
      (k) => {
        const s = window.__demo![k];
        return s !== undefined && !s.training && s.steps > 0 && s.caption !== undefined;
      },
      { timeout: 0, polling: 200 },
      key,
    );
    await within(`the ${key} panel`, PANEL_MS, done, log).catch(async (e: Error) => {
      // Where the stalled panel was: its published steps and whether it still trains.
      const s = await within(
        'reading the page state',
        5_000,
        page.evaluate((k) => {
          const p = window.__demo![k];
          return p ? `steps ${p.steps}, training ${p.training}, caption ${p.caption === undefined ? 'none' : 'set'}` : 'none';
        }, key),
      ).catch(() => 'unreadable');
      throw new Error(`${e.message}; its state: ${s}`);
    });
  }
}

type Lessons = Awaited<ReturnType<typeof demoState>>;

/** Cells: PyTorch's counts, finite falling losses, the caption's winner and numbers. */
function checkCells(cells: NonNullable<Lessons['cells']>): void {
  expect(cells.steps).toBe(STEPS);
  expect(cells.runs!.map((r) => r.parameters)).toEqual([specCount('RNN_TANH', 8, 16), specCount('GRU', 8, 16), specCount('LSTM', 8, 16)]);
  expect(cells.runs!.map((r) => r.parameters)).toEqual([416, 1248, 1664]);
  for (const r of cells.runs!) {
    expect(r.losses).toHaveLength(STEPS);
    expect(r.losses.every(Number.isFinite), r.cell).toBe(true);
    expect(r.finalLoss, `${r.cell} learns`).toBeLessThan(r.losses[0] - 0.3);
    expect(r.msPerStep).toBeGreaterThan(0);
  }
  const ranked = [...cells.runs!].sort((a, b) => a.finalLoss - b.finalLoss);
  const cellName = { RNN: 'plain RNN', GRU: 'GRU', LSTM: 'LSTM' } as const;
  expect(cells.caption).toContain(`the ${cellName[ranked[0].cell]}`);
  for (const r of ranked) expect(cells.caption).toContain(r.finalLoss.toFixed(3));
  expect(cells.caption).toContain(`After ${STEPS} steps`);
}

/** Optimizers: five finite, falling curves from the same start; the caption ranks them with their numbers. */
function checkOptimizers(opt: NonNullable<Lessons['optimizers']>): void {
  expect(opt.runs!.map((r) => r.id)).toEqual(['sgd', 'momentum', 'adam', 'rmsprop', 'cosine']);
  const start = opt.runs![0].losses[0];
  for (const r of opt.runs!) {
    expect(r.divergedAt, r.id).toBeUndefined();
    expect(r.losses).toHaveLength(STEPS);
    expect(r.losses.every(Number.isFinite), r.id).toBe(true);
    expect(r.losses[0]).toBeCloseTo(start, 4); // the same model and batch before any update
    expect(r.finalLoss, `${r.id} learns`).toBeLessThan(start - 0.1);
  }
  const order = [...opt.runs!].sort((a, b) => a.finalLoss - b.finalLoss).map((r) => r.finalLoss.toFixed(3));
  const positions = order.map((v) => opt.caption!.indexOf(v));
  expect(positions.every((p) => p >= 0)).toBe(true);
  expect([...positions].sort((a, b) => a - b)).toEqual(positions);
}

describe('the demo: training lessons', () => {
  it('cells side by side, clipping against explosion, five optimizers: the science, the captions, both languages', async () => {
    await withBrowser(WEBGPU, async (browser) => {
      const log: string[] = [];
      const { page, errors } = await within('opening the page', 60_000, openDemo(browser, site.origin, '?lang=en'), log);
      expect((await demoState(page)).backend).toBe('webgpu');
      await trainPanels(page, log);
      const state = await demoState(page);
      expect(await page.$$eval('.error:not([hidden])', (es) => es.map((e) => e.textContent))).toEqual([]);

      const cells = state.cells!;
      checkCells(cells);
      expect(await text(page, 'cl-caption')).toBe(cells.caption);

      // Clipping: the unclipped run diverges (the library's non-finite step), the clipped one trains on.
      const clip = state.clipping!;
      expect(clip.scale).toBe(1.2);
      expect(clip.plain!.diverged, 'the unclipped run diverges').toBeDefined();
      const at = clip.plain!.diverged!.step;
      expect(at).toBeGreaterThan(1);
      expect(at).toBeLessThanOrEqual(STEPS);
      expect(clip.plain!.losses).toHaveLength(at - 1);
      expect(clip.plain!.gradNorms.at(-1)!).toBeGreaterThan(1e3 * clip.plain!.gradNorms[0]); // it exploded before it broke
      expect(clip.clipped!.diverged, 'the clipped run does not').toBeUndefined();
      expect(clip.clipped!.losses).toHaveLength(STEPS);
      expect(clip.clipped!.losses.every(Number.isFinite)).toBe(true);
      expect(clip.clipped!.gradNorms[0]).toBeGreaterThan(clip.maxNorm!); // clipping was doing something
      expect(mean(clip.clipped!.losses.slice(-5))).toBeLessThan(clip.clipped!.losses[0] / 2);
      expect(clip.caption).toContain(`at step ${at} the loss was`);
      expect(clip.caption).toContain(`trained all ${STEPS} steps`);
      expect(await text(page, 'cp-caption')).toBe(clip.caption);

      const opt = state.optimizers!;
      checkOptimizers(opt);
      expect(await text(page, 'op-caption')).toBe(opt.caption);

      for (const id of ['cells', 'clipping', 'optimizers']) await within(`the ${id} screenshot`, 30_000, screenshot(page, id, `demo-${id}-en`), log);

      // In Chinese, in place: the headings from the table, the captions re-worded with the same numbers.
      await page.click('#language button[data-lang="zh"]');
      expect(await text(page, 'cells-title')).toBe(zh['cells.title']);
      expect(await text(page, 'clipping-title')).toBe(zh['clip.title']);
      expect(await text(page, 'optimizers-title')).toBe(zh['opt.title']);
      const zhState = await demoState(page);
      expect(zhState.clipping!.caption).toContain(`到第 ${at} 步损失变成了`);
      for (const [id, caption] of [
        ['cl-caption', cells.caption!],
        ['cp-caption', clip.caption!],
        ['op-caption', opt.caption!],
      ]) {
        const shown = await text(page, id);
        expect(shown).not.toBe(caption);
        expect(shown.match(/\d+\.\d+/g)).toEqual(caption.match(/\d+\.\d+/g));
      }
      expect(await text(page, 'cl-train')).toBe(zh['cells.train']);
      expect(await englishIn(page, ['cells', 'clipping', 'optimizers']), 'English left in the Chinese panels').toEqual([]);
      for (const id of ['cells', 'clipping', 'optimizers']) await within(`the ${id} screenshot`, 30_000, screenshot(page, id, `demo-${id}-zh`), log);
      await page.click('#language button[data-lang="en"]');
      expect(await text(page, 'cl-train')).toBe(en['cells.train']);
      expect(errors).toEqual([]);
    });
  }, 240_000);
  it('without WebGPU (the CPU backend, in Web Workers): the same three lessons; clipping diverges without clipping and not with it', async () => {
    await withBrowser([], async (browser) => {
      const log: string[] = [];
      const { page, errors } = await within('opening the page', 60_000, openDemo(browser, site.origin, '?lang=en'), log);
      expect((await demoState(page)).backend).toBe('cpu');
      await trainPanels(page, log);
      const state = await demoState(page);
      checkCells(state.cells!);
      checkOptimizers(state.optimizers!);
      const clip = state.clipping!;
      // float64 overflows later than float32, so the step may differ from WebGPU's; the outcome may not.
      expect(clip.plain!.diverged).toBeDefined();
      expect(clip.plain!.diverged!.step).toBeLessThan(10);
      expect(clip.clipped!.diverged).toBeUndefined();
      expect(clip.clipped!.losses).toHaveLength(STEPS);
      expect(mean(clip.clipped!.losses.slice(-5))).toBeLessThan(clip.clipped!.losses[0] / 2);
      expect(clip.caption).toContain(`at step ${clip.plain!.diverged!.step} the loss was`);
      expect(await page.$$eval('.error:not([hidden])', (es) => es.map((e) => e.textContent))).toEqual([]);
      expect(errors).toEqual([]);
    });
  }, 120_000);
});
