/**
 * The header's language switch (中文 / English): the page opens in the language `preferredLanguage`
 * chose (?lang=, the visitor's earlier choice, the browser's languages), and a press switches every
 * string in place — no reload, so a trained model or a running training carries on.
 */
import { LANGUAGES, type Language, applyStrings, language, setLanguage } from './i18n.js';
import { byId } from './ui.js';

export function setupLanguageSwitch(): void {
  const buttons = [...byId('language').querySelectorAll<HTMLButtonElement>('button[data-lang]')];
  const mark = (lang: Language) => {
    for (const b of buttons) b.setAttribute('aria-pressed', String(b.dataset.lang === lang));
  };
  for (const b of buttons) {
    const lang = b.dataset.lang as Language;
    if (!LANGUAGES.includes(lang)) throw new Error(`demo: no string table for the switch's language "${lang}"`);
    b.addEventListener('click', () => {
      if (lang === language()) return;
      setLanguage(lang);
      mark(lang);
    });
  }
  document.documentElement.lang = language() === 'zh' ? 'zh-CN' : language();
  applyStrings();
  mark(language());
}
