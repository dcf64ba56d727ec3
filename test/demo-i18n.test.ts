/**
 * The demo's two string tables (demo/strings/en.ts, zh.ts) against each other and against the page's
 * sources, in plain Node: the same keys, no empty string, each key's {placeholders} in both languages,
 * every key the page names (data-i18n* in demo/*.html, t('…') and pageError('…') in demo/**\/*.ts, and
 * any quoted 'panel.key' literal with a table's prefix) present, markup only where data-i18n-html puts
 * it, no English sentence copied into the Chinese table, no text in bench.html outside those keys; the
 * benchmark's English progress lines (src/bench/run.ts's formatRow) read back and worded in each language,
 * for the Speed panel and bench.html; and preferredLanguage's order (?lang=, the stored choice, the
 * browser's languages, English).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type BenchRow, formatRow } from '../src/bench/run.js';
import { type BenchProgress, progressString, readProgress } from '../demo/bench-progress.js';
import { errorText, format, preferredLanguage } from '../demo/i18n.js';
import { RnnError } from '../src/errors.js';
import { en } from '../demo/strings/en.js';
import { zh } from '../demo/strings/zh.js';

const DEMO = fileURLToPath(new URL('../demo', import.meta.url));
const tables = { en: en as Record<string, string>, zh: zh as Record<string, string> };
/** Keys that join a list or sentences: a language that joins without a space may leave them empty. */
const SEPARATOR = /Sep$/;
/** Names and units that stay as they are in every language. */
const KEPT =
  /^(LSTM|GRU|RNN|RNNs|WebGPU|ONNX|PyTorch|TensorFlow|js|webgpu|rnn|CPU|GPU|float\d+|tanh|ReLU|safetensors|UTF|txt|Adam|AdamW|SGD|RMSprop|YYYY|MM|DD|IndexedDB|Web|Worker|Debian|fortunes|zh|clip_grad_norm_|W_hh|navigator|gpu|ms|train|text)$/;

function files(dir: string, ext: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name), ext) : e.name.endsWith(ext) ? [join(dir, e.name)] : [],
  );
}
const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('the string tables', () => {
  it('have the same keys, and no string is empty (but a separator)', () => {
    expect(Object.keys(zh).sort()).toEqual(Object.keys(en).sort());
    for (const [lang, table] of Object.entries(tables))
      for (const [key, value] of Object.entries(table)) if (!SEPARATOR.test(key)) expect(value.trim(), `${lang} ${key}`).not.toBe('');
  });

  it('give each key the same {placeholders} in both languages', () => {
    const differ = Object.keys(en).filter((k) => placeholders(tables.en[k]).join() !== placeholders(tables.zh[k]).join());
    expect(differ, 'keys whose placeholders differ between en and zh').toEqual([]);
  });

  it('hold no English sentence copied into the Chinese table', () => {
    const english = (s: string) =>
      s
        .replace(/<em lang="en">.*?<\/em>/g, ' ')
        .replace(/<[^>]+>|\{\w+\}/g, ' ')
        .match(/[A-Za-z][A-Za-z_.']*[A-Za-z]/g)
        ?.filter((w) => w.length >= 4 && !KEPT.test(w)) ?? [];
    const copied = Object.keys(en).filter((k) => tables.zh[k] === tables.en[k] && english(tables.en[k]).length > 0);
    expect(copied, 'Chinese strings left in English').toEqual([]);
  });

  it('fill placeholders, and a missing value is an error', () => {
    expect(format('{a} and {b}', { a: 1, b: 'x' })).toBe('1 and x');
    expect(() => format('step {step}', {}, 'k')).toThrow(/"k" needs a value for \{step\}/);
  });
});

describe('the keys the page names', () => {
  const html = files(DEMO, '.html').map((f) => ({ file: relative(DEMO, f), text: readFileSync(f, 'utf8') }));
  const code = files(DEMO, '.ts')
    .filter((f) => !f.includes(`${join('demo', 'strings')}`) && !f.endsWith('i18n.ts'))
    .map((f) => ({ file: relative(DEMO, f), text: readFileSync(f, 'utf8') }));
  const prefixes = new Set(Object.keys(en).map((k) => k.split('.')[0]));

  it('every data-i18n* key in the HTML is in the tables; markup only where data-i18n-html puts it', () => {
    const missing: string[] = [];
    const markupAsText: string[] = [];
    let count = 0;
    for (const { file, text } of html)
      for (const m of text.matchAll(/data-i18n(-html|-title|-placeholder|-aria-label)?="([^"]+)"/g)) {
        count++;
        const key = m[2];
        if (!(key in en)) missing.push(`${file}: ${key}`);
        else if (m[1] !== '-html' && (/<\w/.test(tables.en[key]) || /<\w/.test(tables.zh[key]))) markupAsText.push(`${file}: ${key}`);
      }
    expect(count).toBeGreaterThan(50);
    expect(missing, 'keys used in the HTML but missing from the tables').toEqual([]);
    expect(markupAsText, 'keys with markup used as plain text').toEqual([]);
  });

  it("every t('…') / pageError('…') key and every quoted key with a table's prefix in demo/**/*.ts is in the tables", () => {
    const missing = new Set<string>();
    let count = 0;
    for (const { file, text } of code) {
      // The first argument of t() and pageError(), and each branch of a ternary given to them.
      for (const m of text.matchAll(/\b(?:t|pageError)\(\s*([^,()]*?)\s*[,)]/g))
        for (const k of m[1].matchAll(/'([^'\s]+)'/g)) {
          count++;
          if (!(k[1] in en)) missing.add(`${file}: ${k[1]}`);
        }
      // Any other 'prefix.key' literal (keys kept in constants, e.g. CORPUS_NAMES).
      for (const k of text.matchAll(/'([a-z][A-Za-z0-9]*)\.([A-Za-z][A-Za-z0-9]*)'/g))
        if (prefixes.has(k[1]) && !(`${k[1]}.${k[2]}` in en)) missing.add(`${file}: ${k[1]}.${k[2]}`);
    }
    expect(count).toBeGreaterThan(50);
    expect([...missing], 'keys used in the code but missing from the tables').toEqual([]);
  });
});

describe("the benchmark page's own text", () => {
  // index.html's panels also write some of their elements from code (captions before a run), so only bench.html is held to this.
  it('is only the English fallback of an element that names its key (names, units and code aside)', () => {
    const left: string[] = [];
    for (const f of [join(DEMO, 'bench.html')]) {
      let text = readFileSync(f, 'utf8')
        .replace(/<!--[\s\S]*?-->|<(script|style|code|pre)\b[\s\S]*?<\/\1>/g, ' ')
        .replace(/<(\w+)\b[^>]*\sdata-i18n(?:-html)?="[^"]*"[^>]*>[\s\S]*?<\/\1>/g, ' ');
      text = text.replace(/<[^>]*>/g, ' ');
      const words = text.match(/[A-Za-z][A-Za-z_.']*[A-Za-z]/g)?.filter((w) => w.length >= 4 && !KEPT.test(w)) ?? [];
      if (words.length) left.push(`${relative(DEMO, f)}: ${words.slice(0, 8).join(' ')}`);
    }
    expect(left, 'English in the HTML that no string table replaces').toEqual([]);
  });
});

describe("the benchmark's progress lines", () => {
  const row = (shape: string, system: string, median: number | null, error?: string): BenchRow => ({
    shape,
    system: system as BenchRow['system'],
    median_ms: median,
    min_ms: median,
    gflop: 1,
    gflops: median && 1 / median,
    dispatches: 12,
    gpu_bytes: 2 ** 20,
    max_rel_err: 1e-6,
    ...(error ? { error } : {}),
  });
  const shapes = ['char-rnn', 'train-char-lm', 'train-classifier'];
  const systems = ['webgpu-rnn', 'webgpu-rnn-forward', 'cpu-reference'];

  it('are read back from what runBench writes: the adapter, a timed row, an untimed one, an unavailable one', () => {
    const read = (line: string) => readProgress(line, shapes, systems);
    expect(read('adapter: Google SwiftShader (software); runtime: this browser')).toEqual({ kind: 'adapter', adapter: 'Google SwiftShader' });
    expect(read('adapter: Apple metal-3; runtime: node')).toEqual({ kind: 'adapter', adapter: 'Apple metal-3' });
    expect(read(formatRow(row('char-rnn', 'webgpu-rnn', 12.345)))).toEqual({ kind: 'row', shape: 'char-rnn', system: 'webgpu-rnn', ms: 12.3 });
    // A shape wider than its column and the longer of two system names that share a start.
    expect(read(formatRow(row('train-classifier', 'webgpu-rnn-forward', 3.05)))).toMatchObject({ shape: 'train-classifier', system: 'webgpu-rnn-forward' });
    expect(read(formatRow(row('train-char-lm', 'cpu-reference', null)))).toEqual({ kind: 'row', shape: 'train-char-lm', system: 'cpu-reference', ms: null });
    expect(read(formatRow(row('train-classifier', 'cpu-reference', null, 'no GPU: it said so')))).toEqual({
      kind: 'unavailable',
      shape: 'train-classifier',
      system: 'cpu-reference',
      error: 'no GPU: it said so',
    });
    expect(read('ceilings: GEMM 1.234 GFLOP/s (256×256×256); empty dispatch 20.0 µs')).toBeUndefined();
    expect(read(formatRow(row('long-lstm', 'webgpu-rnn', 1)))).toBeUndefined(); // a shape not asked for
  });

  it('are worded in both languages, with the names the page gives and the same numbers', () => {
    const facts: BenchProgress[] = [
      { kind: 'adapter', adapter: 'Google SwiftShader' },
      { kind: 'row', shape: 'train-char-lm', system: 'cpu-reference', ms: 1234.56 },
      { kind: 'row', shape: 'char-rnn', system: 'webgpu-rnn', ms: null },
      { kind: 'unavailable', shape: 'char-rnn', system: 'cpu-reference', error: 'lost' },
    ];
    for (const progress of facts) {
      const [key, values] = progressString(
        progress,
        (s) => `<${s}>`,
        (s) => `[${s}]`,
      );
      const said = { en: format(en[key], values), zh: format(zh[key], values) };
      expect(said.zh, key).not.toBe(said.en);
      expect(said.zh, key).toMatch(/[\u4e00-\u9fff]/);
      for (const text of Object.values(said)) {
        if (progress.kind === 'adapter') expect(text).toContain('Google SwiftShader');
        else expect(text).toContain(`<${progress.shape}> · [${progress.system}]`);
        if (progress.kind === 'row' && progress.ms !== null) expect(text).toContain('1234.6');
        if (progress.kind === 'unavailable') expect(text).toContain('lost');
      }
    }
  });
});

describe("the library's errors", () => {
  it('are said by their kind in the page language (from the RnnError code), their English message after', () => {
    const e = new RnnError('WEIGHTS_INVALID', "weights: missing tensor 'rnn.weight_hh_l0'");
    expect(errorText(e)).toBe("Weights that do not fit this model: weights: missing tensor 'rnn.weight_hh_l0'");
    expect(format(zh['error.coded'], { kind: zh['error.kind.weights'], message: e.message })).toBe(
      "权重与这个模型不符（详情：weights: missing tensor 'rnn.weight_hh_l0'）",
    );
    expect(errorText(new RnnError('WEBGPU_UNAVAILABLE', 'no adapter'))).toBe('This browser has no WebGPU: no adapter');
    // Anything else keeps its message, after the lead-in (none in English).
    expect(errorText(new Error('the worker stopped'))).toBe('the worker stopped');
  });
});

describe('preferredLanguage', () => {
  it('?lang= first, then the stored choice, then the browser, then English', () => {
    expect(preferredLanguage('?lang=zh', 'en', ['en-US'])).toBe('zh');
    expect(preferredLanguage('?lang=en', 'zh', ['zh-CN'])).toBe('en');
    expect(preferredLanguage('', 'zh', ['en-US'])).toBe('zh');
    expect(preferredLanguage('', 'en', ['zh-CN'])).toBe('en');
    expect(preferredLanguage('', null, ['zh-CN', 'en'])).toBe('zh');
    expect(preferredLanguage('', null, ['zh-TW'])).toBe('zh');
    expect(preferredLanguage('', null, ['ZH'])).toBe('zh');
    expect(preferredLanguage('', null, ['fr-FR', 'zh-CN'])).toBe('zh');
    expect(preferredLanguage('', null, ['fr-FR', 'de'])).toBe('en');
    expect(preferredLanguage('', null, [])).toBe('en');
  });

  it('a language without a table is passed over, wherever it comes from', () => {
    expect(preferredLanguage('?lang=fr', 'de', ['zh-CN'])).toBe('zh');
    expect(preferredLanguage('?lang=', null, ['en-GB'])).toBe('en');
    expect(preferredLanguage('?x=1&lang=zh-Hans', null, ['en'])).toBe('zh');
  });
});
