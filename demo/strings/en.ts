/**
 * The page's English strings: the source table every other language is checked against (demo/i18n.ts).
 * Keys are `<panel>.<what>`; `{name}` marks a value the code fills in. Strings used with
 * `data-i18n-html` may hold markup (equations, <em>); all others are plain text.
 */
export const en = {
  'page.title': 'webgpu-rnn — recurrent networks, trained in your browser',
  'page.language': 'Language',
  // The page's behaviour (engineer D): notices, placeholders, the nats line, the speed panel's shapes.
  'ux.settingsChanged': 'These settings differ from the trained model ({model}): Train would start a new model from scratch. Set them back to resume it.',
  'ux.trainNew': 'Train a new model',
  'ux.locked': "The model's settings are locked while it trains: press Stop to change them.",
  'ux.datesSettings': 'These settings differ from the model ({model}): Resume goes on training it as it is; New model starts one with them.',
  'ux.pressTrain': 'Press Train: the loss appears here, step by step, as the model learns.',
  'ux.pressTrainBars': 'Press Train: the probabilities of the next character appear here.',
  'ux.pressRun': 'Press Run: the curves appear here.',
  'ux.pressMeasure': 'Press Measure: the timings appear here.',
  'ux.promptInvalid': 'No distribution: the prompt holds characters this model cannot read.',
  'ux.promptEmpty': 'No distribution: type a prompt.',
  'ux.nats':
    'Nats: the natural-log unit of surprise. A loss of L nats per character means the model gave the right next character a probability of e^−L on average (ln 2 ≈ 0.69 nats is one bit).',
  'ux.stepLog': 'step (log scale)',
  'ux.speedShapes': 'The shapes measured:',
  'ux.speedShape': '{name}: {cell}, input I {I}, hidden H {H}, {layers} layer(s){bidirectional}, batch B {B}, sequence length T {T}',
  'ux.speedBidirectional': ', bidirectional',
} as const;
