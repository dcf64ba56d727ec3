/**
 * The page's two languages. Every heading, explanation, control, caption and error the page shows comes
 * from one table per language (demo/strings/<language>.ts): English is the source table, and every
 * other table is typed against it, so a missing or misspelled key fails the type check, and a third
 * language is one more file plus one line in `TABLES`.
 *
 * Static text in index.html names its key in `data-i18n` (textContent), `data-i18n-html` (the table's
 * own markup: equations, <em>), `data-i18n-title`, `data-i18n-placeholder` or `data-i18n-aria-label`;
 * text the panels write from code calls `t(key, values)` and re-renders in `onLanguageChange`.
 */
import { RnnError, type RnnErrorCode } from '../src/errors.js';
import { en } from './strings/en.js';
import { zh } from './strings/zh.js';

export type StringKey = keyof typeof en;
/** What a translation must provide: every key of the English table. */
export type StringTable = Record<StringKey, string>;

const TABLES = { en, zh } satisfies Record<string, StringTable>;
export type Language = keyof typeof TABLES;
export const LANGUAGES = Object.keys(TABLES) as Language[];
/** Each language's name in itself, for the switch. */
export const LANGUAGE_NAMES: Record<Language, string> = { en: 'English', zh: '中文' };

const STORAGE_KEY = 'webgpu-rnn-demo-language';
const listeners: Array<(language: Language) => void> = [];

/** `?lang=` first (links, tests), then the visitor's earlier choice, then the browser's languages, then English. */
export function preferredLanguage(search: string, stored: string | null, browser: readonly string[]): Language {
  const asked = new URLSearchParams(search).get('lang');
  for (const candidate of [asked, stored, ...browser]) {
    const base = candidate?.toLowerCase().split('-')[0];
    if (base && (LANGUAGES as string[]).includes(base)) return base as Language;
  }
  return 'en';
}

let current: Language = typeof window === 'undefined' ? 'en' : initialLanguage();

function initialLanguage(): Language {
  let stored: string | null = null;
  try {
    stored = localStorage.getItem(STORAGE_KEY);
  } catch {
    // storage switched off: the browser's languages decide
  }
  return preferredLanguage(location.search, stored, navigator.languages ?? [navigator.language]);
}

export function language(): Language {
  return current;
}

/** The string `key` in the current language, with `{name}` replaced by `values.name`. */
export function t(key: StringKey, values?: Record<string, string | number>): string {
  return format(TABLES[current][key], values, key);
}

/** `template` with each `{name}` replaced; a placeholder without a value is a bug, said loudly. */
export function format(template: string, values: Record<string, string | number> | undefined, key = template): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = values?.[name];
    if (v === undefined) throw new Error(`demo strings: "${key}" needs a value for {${name}}`);
    return String(v);
  });
}

/** The string `key` in `lang` (for tests and for the switch's own labels). */
export function tableFor(lang: Language): StringTable {
  return TABLES[lang];
}

/** Calls `render` now and again whenever the language changes. */
export function onLanguageChange(render: (language: Language) => void): void {
  listeners.push(render);
  render(current);
}

/** Fills every element under `root` that names a key in a data-i18n* attribute. */
export function applyStrings(root: ParentNode = document): void {
  const table = TABLES[current];
  for (const e of root.querySelectorAll<HTMLElement>('[data-i18n]')) e.textContent = table[e.dataset.i18n as StringKey];
  for (const e of root.querySelectorAll<HTMLElement>('[data-i18n-html]')) e.innerHTML = table[e.dataset.i18nHtml as StringKey];
  for (const e of root.querySelectorAll<HTMLElement>('[data-i18n-title]')) e.title = table[e.dataset.i18nTitle as StringKey];
  for (const e of root.querySelectorAll<HTMLElement>('[data-i18n-placeholder]')) e.setAttribute('placeholder', table[e.dataset.i18nPlaceholder as StringKey]);
  for (const e of root.querySelectorAll<HTMLElement>('[data-i18n-aria-label]')) e.setAttribute('aria-label', table[e.dataset.i18nAriaLabel as StringKey]);
}

/** The elements whose text code wrote with `say`, and how to write it again in another language. */
const spoken = new Map<HTMLElement, () => string>();

/**
 * Writes `render()` into `element` and again whenever the language changes (a stats line, a caption,
 * an error); without `render`, clears it and forgets it.
 */
export function say(element: HTMLElement, render?: () => string): void {
  if (render) spoken.set(element, render);
  else spoken.delete(element);
  element.textContent = render ? render() : '';
}

/** An error the demo itself raises: its message in the page's language, rendered again when the language changes. */
export class PageError extends Error {
  constructor(readonly render: () => string) {
    super(render());
    this.name = 'PageError';
  }
}

/** A PageError saying the string `key` with `values`. */
export function pageError(key: StringKey, values?: Record<string, string | number>): PageError {
  return new PageError(() => t(key, values));
}

/** The page's words for each kind of library error (RnnError's `code`): every code has one. */
const ERROR_KINDS: Record<RnnErrorCode, StringKey> = {
  CONFIG_INVALID: 'error.kind.config',
  OPTION_INVALID: 'error.kind.option',
  TENSOR_INVALID: 'error.kind.tensor',
  WEIGHTS_INVALID: 'error.kind.weights',
  NON_FINITE: 'error.kind.nonFinite',
  SAFETENSORS_INVALID: 'error.kind.safetensors',
  LIMIT_EXCEEDED: 'error.kind.limit',
  DESTROYED: 'error.kind.destroyed',
  DEVICE_LOST: 'error.kind.deviceLost',
  GPU_VALIDATION: 'error.kind.gpuValidation',
  GPU_OUT_OF_MEMORY: 'error.kind.gpuMemory',
  WEBGPU_UNAVAILABLE: 'error.kind.noWebgpu',
  WEBGPU_PACKAGE_MISSING: 'error.kind.noWebgpuPackage',
  ONNX_INVALID: 'error.kind.onnx',
  ONNX_UNSUPPORTED: 'error.kind.onnxUnsupported',
  USAGE: 'error.kind.usage',
  FILE: 'error.kind.file',
};

/**
 * What the page says for `error`, in the current language: its own errors (PageError) translated; the
 * library's RnnError as its kind in the page's language (from its code) with its message, which names
 * the tensor or option at fault, in English; anything else (the browser's) its message after a lead-in
 * (`error.library`: "出错了：" in Chinese, nothing in English).
 */
export function errorText(error: unknown): string {
  if (error instanceof PageError) return error.render();
  if (error instanceof RnnError && ERROR_KINDS[error.code]) return t('error.coded', { kind: t(ERROR_KINDS[error.code]), message: error.message });
  return t('error.library', { message: error instanceof Error ? error.message : String(error) });
}

/** Switches the page to `lang`: the static text, then every panel's own text, and remembers the choice. */
export function setLanguage(lang: Language): void {
  current = lang;
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : lang;
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // not remembered: fine
  }
  applyStrings();
  for (const [element, render] of spoken) element.textContent = render();
  for (const render of listeners) render(lang);
}
