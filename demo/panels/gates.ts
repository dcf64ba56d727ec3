/**
 * The equations, running: the next-character panel's model (demo/shared-model.ts) read over a short
 * sentence, every gate of its cell at every character — LSTM i, f, g, o and c, h; GRU r, z, n and h;
 * RNN h — as heatmaps (a row per unit, a column per character), beside the cell's equations written
 * with the same symbols. The values come from the model's own parameters (trainer.parameters) through
 * a float64 evaluator of PyTorch's equations (demo/cell-evaluator.ts); each Show checks its h_t against
 * the library's own forward pass of the same weights on this page's backend and says how close they
 * are. Without a trained model the panel offers a freshly initialised one (the everyday sentences'
 * characters, untrained), so the equations can be seen before anything is trained.
 */
import { type ModelConfig, type ModelConfigInput, type RnnMode, type Tensor, encode, resolveModelConfig, vocabularyOf } from '../../src/index.js';
import { GATE_SYMBOLS, evaluateCells, gateRange } from '../cell-evaluator.js';
import { everydayCorpus } from '../corpora/everyday.js';
import { drawGateHeatmap } from '../gate-heatmap.js';
import { type StringKey, language, onLanguageChange, pageError, say, t } from '../i18n.js';
import { type GateSummary, gatesCaption } from '../lesson-captions.js';
import type { PageContext } from '../main.js';
import { type SharedModel, onModelChange, sharedModel } from '../shared-model.js';
import { openTrainer } from '../trainer-host.js';
import { busy, byId, showError } from '../ui.js';

/** The most units drawn (a larger model shows its first MAX_UNITS). */
const MAX_UNITS = 64;
const MAX_CHARS = 24;
const FRESH_HIDDEN = 32;

const EQUATIONS: Record<RnnMode, StringKey> = { LSTM: 'gates.eqLstm', GRU: 'gates.eqGru', RNN_TANH: 'gates.eqRnn', RNN_RELU: 'gates.eqRnnRelu' };
const NAMES: Record<string, StringKey> = {
  i: 'gates.nameI',
  f: 'gates.nameF',
  g: 'gates.nameG',
  o: 'gates.nameO',
  c: 'gates.nameC',
  h: 'gates.nameH',
  r: 'gates.nameR',
  z: 'gates.nameZ',
  n: 'gates.nameN',
};

/** Where the shown model came from. */
type Source = { kind: 'trained'; steps: number } | { kind: 'fresh' };

export function setupGates(page: PageContext): void {
  const maps = byId('gt-maps');
  const equations = byId('gt-equations');
  const caption = byId('gt-caption');
  const sourceLine = byId('gt-source');
  const layerSelect = byId<HTMLSelectElement>('gt-layer');
  let fresh: SharedModel | undefined;
  /** The cell whose equations are shown (the model's once one is shown; the fresh-model choice before). */
  let shownMode: RnnMode = 'LSTM';

  const renderEquations = () => {
    equations.innerHTML = t(EQUATIONS[shownMode]);
  };
  onLanguageChange(renderEquations);
  const modeSelect = byId<HTMLSelectElement>('gt-mode');
  modeSelect.addEventListener('change', () => {
    if (maps.childElementCount === 0) {
      shownMode = modeSelect.value as RnnMode;
      renderEquations();
    }
  });

  const clear = () => {
    maps.replaceChildren();
    say(caption, () => t('gates.pressShow'));
    say(sourceLine);
    showError('gt-error');
    delete window.__demo!.gates;
  };
  clear();
  // A new next-character model, or another sentence, makes what is shown stale.
  onModelChange(() => {
    if (window.__demo!.gates?.source === 'trained') clear();
  });
  byId('gt-text').addEventListener('input', () => {
    if (window.__demo!.gates) clear();
  });

  const show = async (model: SharedModel, source: Source) => {
    const config = model.trainer.model as ModelConfig;
    const text = byId<HTMLInputElement>('gt-text').value;
    const chars = Array.from(text);
    if (chars.length < 2 || chars.length > MAX_CHARS) throw pageError('gates.badLength', { min: 2, max: MAX_CHARS, n: chars.length });
    const missing = [...new Set(chars)].filter((c) => !model.vocab.ids.has(c));
    if (missing.length) throw pageError('gates.unknownChars', { chars: missing.join(' '), n: model.vocab.chars.length });
    const layers = config.rnn.num_layers;
    const asked = Number(layerSelect.value) || layers;
    layerSelect.replaceChildren(...Array.from({ length: layers }, (_, l) => new Option(String(l + 1), String(l + 1))));
    const layer = Math.min(asked, layers);
    layerSelect.value = String(layer);

    const ids = encode(model.vocab, text);
    const params = await model.trainer.parameters();
    const gates = evaluateCells(config, params, ids);
    // The library's own forward pass of the same weights, without the head: the last layer's h_t at every step.
    const hError = await libraryError(config, params, ids, gates[layers - 1].h, page);

    const shown = gates[layer - 1];
    const H = config.rnn.hidden_size;
    const units = Math.min(H, MAX_UNITS);
    shownMode = config.rnn.mode;
    renderEquations();
    maps.replaceChildren();
    const values: Record<string, number[][]> = {};
    for (const symbol of GATE_SYMBOLS[config.rnn.mode]) {
      const v = shown[symbol].map((row) => row.slice(0, units));
      values[symbol] = v;
      const [lo] = gateRange(config.rnn.mode, symbol);
      const signed = lo < 0 || config.rnn.mode === 'RNN_RELU';
      const range = symbol === 'c' || (symbol === 'h' && config.rnn.mode === 'RNN_RELU') ? Math.max(1e-9, ...v.flat().map(Math.abs)) : 1;
      const figure = document.createElement('figure');
      figure.className = 'gate-map';
      const label = document.createElement('figcaption');
      say(label, () => t(NAMES[symbol], { range: symbol === 'c' ? range.toFixed(2) : '' }));
      const canvas = document.createElement('canvas');
      canvas.dataset.gate = symbol;
      figure.append(label, canvas);
      maps.append(figure);
      drawGateHeatmap(canvas, chars, v, signed, range);
    }
    const summary: GateSummary = summarise(config.rnn.mode, chars, values);
    window.__demo!.gates = {
      source: source.kind,
      mode: config.rnn.mode,
      layer,
      units,
      hidden: H,
      chars,
      values,
      hError,
      steps: source.kind === 'trained' ? source.steps : 0,
    };
    const what = () =>
      source.kind === 'trained'
        ? t('gates.sourceTrained', { mode: config.rnn.mode, hidden: H, layers, steps: source.steps })
        : t('gates.sourceFresh', { mode: config.rnn.mode, hidden: H });
    say(sourceLine, () =>
      [
        what(),
        units < H ? t('gates.firstUnits', { units }) : '',
        t('gates.checked', { error: hError.toExponential(1), backend: page.backend === 'webgpu' ? 'WebGPU' : 'CPU' }),
      ]
        .filter(Boolean)
        .join(t('gates.sourceSep')),
    );
    say(caption, () => gatesCaption(summary, language()));
  };

  const run = byId<HTMLButtonElement>('gt-run');
  run.addEventListener(
    'click',
    () =>
      void busy(run, 'gt-error', async () => {
        const model = sharedModel();
        if (model) return show(model, { kind: 'trained', steps: model.trainer.steps });
        if (fresh) return show(fresh, { kind: 'fresh' });
        throw pageError('gates.noModel');
      }),
  );
  const freshButton = byId<HTMLButtonElement>('gt-fresh');
  freshButton.addEventListener(
    'click',
    () =>
      void busy(freshButton, 'gt-error', async () => {
        const vocab = vocabularyOf(everydayCorpus());
        const mode = modeSelect.value as RnnMode;
        await fresh?.trainer.destroy();
        fresh = undefined;
        const trainer = await openTrainer({
          model: {
            embedding: { num_embeddings: vocab.chars.length, embedding_dim: 32 },
            rnn: { mode, input_size: 32, hidden_size: FRESH_HIDDEN },
            head: { out_features: vocab.chars.length },
            loss: 'cross_entropy',
          },
          backend: page.backend,
          init: { seed: 1, ...(mode === 'LSTM' ? { forgetBias: 1 } : {}) },
        });
        fresh = { trainer, vocab };
        await show(fresh, { kind: 'fresh' });
      }),
  );
}

/** The largest |h_t − library's h_t| of the last layer over every step and unit. */
async function libraryError(config: ModelConfig, params: Record<string, Tensor>, ids: Int32Array, h: number[][], page: PageContext): Promise<number> {
  const bare: ModelConfigInput = { embedding: config.embedding, rnn: { ...config.rnn }, loss: 'mse' };
  const weights = Object.fromEntries(Object.entries(params).filter(([name]) => !name.startsWith('head.')));
  const trainer = await openTrainer({ model: resolveModelConfig(bare), weights, backend: page.backend });
  try {
    const out = (await trainer.predict({ tokens: { shape: [ids.length, 1], data: ids } })).data;
    const H = config.rnn.hidden_size;
    let worst = 0;
    h.forEach((row, t) => row.forEach((v, u) => (worst = Math.max(worst, Math.abs(v - out[t * H + u])))));
    return worst;
  } finally {
    await trainer.destroy();
  }
}

/** What the caption rests on: each shown gate's mean, per character and over all, and how saturated it is. */
function summarise(mode: RnnMode, chars: string[], values: Record<string, number[][]>): GateSummary {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const means: Record<string, number> = {};
  const perChar: Record<string, number[]> = {};
  const saturated: Record<string, number> = {};
  for (const [symbol, v] of Object.entries(values)) {
    means[symbol] = mean(v.flat());
    perChar[symbol] = v.map(mean);
    const [lo, hi] = gateRange(mode, symbol);
    const flat = v.flat();
    // Within 0.1 of a bound of the activation's range (σ: below 0.1 or above 0.9; tanh: |v| > 0.9);
    // a ReLU RNN's h: the share that is 0 (the unit off).
    if (Number.isFinite(lo) && Number.isFinite(hi)) saturated[symbol] = flat.filter((x) => x < lo + 0.1 || x > hi - 0.1).length / flat.length;
    else if (mode === 'RNN_RELU') saturated[symbol] = flat.filter((x) => x === 0).length / flat.length;
  }
  return { mode, chars, means, perChar, saturated };
}
