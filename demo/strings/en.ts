/**
 * The page's English strings: the source table every other language is checked against (demo/i18n.ts).
 * Keys are `<panel>.<what>`; `{name}` marks a value the code fills in. Strings used with
 * `data-i18n-html` may hold markup (equations, <em>); all others are plain text.
 */
export const en = {
  'page.title': 'webgpu-rnn — recurrent networks, trained in your browser',
  'page.language': 'Language',
} as const;
