/**
 * Next character: a character-level language model trained in the page with the library's own `fit`
 * (truncated backpropagation through time over the text, the state carried from batch to batch), on
 * the GPU or the CPU backend. Live: training and held-out loss against the unigram baseline, the
 * next-character distribution after the prompt (trainer.predict), sampled continuations (sampled on
 * the GPU), and the weights as a safetensors state_dict PyTorch loads (with the model and vocabulary
 * in its metadata, as `webgpu-rnn train --text` writes them), which this panel also loads back, or
 * as an ONNX file (exportModelOnnx, the vocabulary in its metadata) that ONNX Runtime runs.
 *
 * URL parameters, for the page's test and slow machines: `steps=N` stops each Train after N steps.
 */
import {
  type ModelConfigInput,
  type TrainBatch,
  type Trainer,
  type Vocabulary,
  createTrainer,
  decode,
  encode,
  exportModelOnnx,
  readSafetensors,
  resolveModelConfig,
  textBatches,
  unigramLoss,
  vocabularyOf,
  writeSafetensors,
} from '../../src/index.js';
import { barChart, lineChart, setLines } from '../charts.js';
import { everydayCorpus } from '../corpora/everyday.js';
import type { PageContext } from '../main.js';
import { busy, byId, download, numberInput, showError } from '../ui.js';

const SEQ_LEN = 32;
const BATCH = 16;
const SHOWN = 12;

interface Session {
  trainer: Trainer;
  vocab: Vocabulary;
  key: string;
  batches: TrainBatch[];
  validation: TrainBatch[];
  unigram: number;
  steps: number[];
  losses: Array<number | null>;
  validationLosses: Array<number | null>;
}

async function corpusText(): Promise<string> {
  const which = byId<HTMLSelectElement>('nc-corpus').value;
  if (which === 'everyday') return everydayCorpus();
  if (which === 'tang300') return (await import('../corpora/tang300.txt?raw')).default;
  const own = byId<HTMLTextAreaElement>('nc-text').value;
  if (Array.from(own).length < 2 * SEQ_LEN + 2)
    throw new Error(`Your text: paste or drop at least ${2 * SEQ_LEN + 2} characters (it has ${Array.from(own).length}).`);
  return own;
}

function modelFor(vocab: number): ModelConfigInput {
  const hidden = numberInput('nc-hidden');
  const layers = numberInput('nc-layers');
  const mode = byId<HTMLSelectElement>('nc-mode').value as 'LSTM';
  return {
    embedding: { num_embeddings: vocab, embedding_dim: 32 },
    rnn: { mode, input_size: 32, hidden_size: hidden, num_layers: layers },
    head: { out_features: vocab, on: 'output' },
    loss: 'cross_entropy',
  };
}

export function setupNextChar(page: PageContext): void {
  const state = (window.__demo!.nextChar = { steps: 0, unigram: Number.NaN, training: false } as NonNullable<typeof window.__demo>['nextChar'] & object);
  const maxSteps = Number(new URLSearchParams(location.search).get('steps')) || undefined;
  const lossChart = lineChart(byId('nc-loss-chart'), { label: 'step' }, { label: 'nats / character' }, [
    { label: 'training' },
    { label: 'held-out', points: true },
    { label: 'unigram baseline', dash: [6, 4], color: '#868e96' },
  ]);
  const probs = barChart(byId('nc-probs-chart'), 'probability', ['next character']);
  const trainButton = byId<HTMLButtonElement>('nc-train');
  const stopButton = byId<HTMLButtonElement>('nc-stop');
  const stats = byId('nc-stats');
  const textBox = byId<HTMLTextAreaElement>('nc-text');
  let session: Session | undefined;
  let stop: AbortController | undefined;

  const redrawLoss = () => {
    if (!session) return;
    setLines(lossChart, session.steps, [session.losses, session.validationLosses, session.steps.map(() => session!.unigram)]);
  };

  /** The distribution after the prompt, drawn as bars; the whole of it published for the test. */
  const showProbabilities = async () => {
    if (!session) return;
    showError('nc-error');
    const prompt = byId<HTMLInputElement>('nc-prompt').value;
    const missing = [...new Set(Array.from(prompt))].filter((c) => !session!.vocab.ids.has(c));
    if (!prompt || missing.length) {
      showError(
        'nc-error',
        new Error(
          prompt
            ? `The prompt's ${missing.map((c) => `"${c}"`).join(', ')} never appear in this text: the model cannot read them.`
            : 'Type a prompt to see what comes next.',
        ),
      );
      return;
    }
    const ids = encode(session.vocab, prompt);
    const logits = await session.trainer.predict({ tokens: { shape: [ids.length, 1], data: ids } });
    const V = session.vocab.chars.length;
    const last = logits.data.subarray((ids.length - 1) * V);
    const top = Math.max(...last);
    const e = Array.from(last, (v) => Math.exp(v - top));
    const z = e.reduce((a, b) => a + b, 0);
    const p = e.map((v) => v / z);
    const order = p
      .map((_, i) => i)
      .sort((a, b) => p[b] - p[a])
      .slice(0, SHOWN);
    const label = (c: string) => (c === '\n' ? '↵' : c === ' ' ? '␠' : c);
    probs.set(
      order.map((i) => label(session!.vocab.chars[i])),
      [order.map((i) => p[i])],
    );
    state.probabilities = { chars: order.map((i) => session!.vocab.chars[i]), p: order.map((i) => p[i]), total: p.reduce((a, b) => a + b, 0) };
  };

  /** A new model for the chosen text and settings (the old one is destroyed). */
  const newSession = async (loaded?: { trainer: Trainer; vocab: Vocabulary }): Promise<Session> => {
    const text = await corpusText();
    const vocab = loaded?.vocab ?? vocabularyOf(text);
    // A loaded model keeps its own vocabulary: it trains on the chosen text only if that is covered.
    let ids: Int32Array = new Int32Array(0);
    try {
      ids = encode(vocab, text);
    } catch (e) {
      if (!loaded) throw e;
    }
    const split = Math.floor(ids.length * 0.9);
    const train = ids.subarray(0, split);
    const held = ids.subarray(split);
    const trainable = train.length > SEQ_LEN * BATCH && held.length > SEQ_LEN + 1;
    const validation = trainable ? textBatches(held, SEQ_LEN, Math.max(1, Math.min(4, Math.floor((held.length - 1) / SEQ_LEN)))).slice(0, 8) : [];
    await session?.trainer.destroy();
    const model = modelFor(vocab.chars.length);
    const trainer =
      loaded?.trainer ??
      (await createTrainer({
        model,
        backend: page.backend,
        init: model.rnn.mode === 'LSTM' ? { forgetBias: 1, seed: 1 } : { seed: 1 },
        seed: 1,
        optimizer: { name: 'adam', lr: numberInput('nc-lr'), clip_grad_norm: 5 },
      }));
    session = {
      trainer,
      vocab,
      key: settingsKey(),
      batches: trainable ? textBatches(train, SEQ_LEN, BATCH) : [],
      validation,
      unigram: trainable ? unigramLoss(train, vocab.chars.length) : Number.NaN,
      steps: [],
      losses: [],
      validationLosses: [],
    };
    state.unigram = session.unigram;
    state.steps = 0;
    redrawLoss();
    stats.textContent = trainable
      ? `${vocab.chars.length} distinct characters, ${ids.length.toLocaleString()} in all; unigram baseline ${session.unigram.toFixed(3)} nats/character`
      : `${vocab.chars.length} characters in the model's vocabulary; the chosen text is not written in them, so it cannot train on it`;
    trainButton.textContent = 'Train';
    await showProbabilities();
    return session;
  };

  const settingsKey = () =>
    ['nc-corpus', 'nc-mode', 'nc-hidden', 'nc-layers', 'nc-lr'].map((id) => byId<HTMLInputElement>(id).value).join('|') +
    (byId<HTMLSelectElement>('nc-corpus').value === 'own' ? textBox.value : '');

  const train = async () => {
    const s = !session || session.key !== settingsKey() ? await newSession() : session;
    if (!s.batches.length) throw new Error('This model cannot train on the chosen text: choose a text written in its characters, or make a new model.');
    stop = new AbortController();
    stopButton.disabled = false;
    state.training = true;
    const started = performance.now();
    let lastProbs = 0;
    try {
      await s.trainer.fit(s.batches, {
        epochs: 10_000,
        maxSteps,
        carryState: true,
        readEvery: 5,
        validation: s.validation,
        validateEvery: 50,
        signal: stop.signal,
        onProgress: async (p) => {
          const step = s.trainer.steps;
          s.steps.push(step);
          s.losses.push(p.loss ?? null);
          s.validationLosses.push(p.validationLoss ?? null);
          redrawLoss();
          Object.assign(state, { steps: step, loss: p.loss, ...(p.validationLoss === undefined ? {} : { validationLoss: p.validationLoss }) });
          stats.textContent = `step ${step} · loss ${p.loss?.toFixed(3)} (unigram ${s.unigram.toFixed(3)})${p.validationLoss === undefined ? '' : ` · held-out ${p.validationLoss.toFixed(3)}`} · ${Math.round(p.tokensPerSecond).toLocaleString()} characters/s · ${((performance.now() - started) / 1000).toFixed(0)} s`;
          if (step - lastProbs >= 25) {
            lastProbs = step;
            await showProbabilities();
          }
        },
      });
      await showProbabilities();
    } finally {
      state.training = false;
      stopButton.disabled = true;
      trainButton.textContent = 'Resume';
    }
  };

  trainButton.addEventListener('click', () => void busy(trainButton, 'nc-error', train));
  stopButton.addEventListener('click', () => stop?.abort());
  byId('nc-reset').addEventListener('click', () => void busy(trainButton, 'nc-error', async () => void (await newSession())));
  byId('nc-prompt').addEventListener('input', () => void showProbabilities().catch((e) => showError('nc-error', e)));
  byId('nc-corpus').addEventListener('change', () => {
    textBox.hidden = byId<HTMLSelectElement>('nc-corpus').value !== 'own';
  });
  const temperature = byId<HTMLInputElement>('nc-temperature');
  temperature.addEventListener('input', () => (byId('nc-temperature-value').textContent = temperature.value));

  const sampleButton = byId<HTMLButtonElement>('nc-sample');
  sampleButton.addEventListener(
    'click',
    () =>
      void busy(sampleButton, 'nc-sample-error', async () => {
        const s = session ?? (await newSession());
        const prompt = byId<HTMLInputElement>('nc-prompt').value;
        const missing = [...new Set(Array.from(prompt))].filter((c) => !s.vocab.ids.has(c));
        if (!prompt || missing.length)
          throw new Error(prompt ? `The prompt's ${missing.map((c) => `"${c}"`).join(', ')} never appear in this text.` : 'Type a prompt first.');
        const ids = await s.trainer.sample(encode(s.vocab, prompt), {
          temperature: Number(temperature.value),
          maxTokens: 60,
          seed: Math.floor(Math.random() * 2 ** 31),
        });
        state.sample = prompt + decode(s.vocab, ids);
        byId('nc-sample-text').textContent = state.sample;
      }),
  );

  const downloadButton = byId<HTMLButtonElement>('nc-download');
  downloadButton.addEventListener(
    'click',
    () =>
      void busy(downloadButton, 'nc-sample-error', async () => {
        if (!session) throw new Error('Train a model first.');
        const metadata = {
          format: 'pt',
          model: JSON.stringify(session.trainer.model),
          vocabulary: JSON.stringify(session.vocab.chars),
          steps: String(session.trainer.steps),
        };
        download('next-char.safetensors', writeSafetensors(await session.trainer.parameters(), { floatDtype: 'F32', metadata }));
      }),
  );
  // The same model as an ONNX file (ONNX Runtime, or loadOnnx, runs it: tokens → next-character logits).
  const onnxButton = byId<HTMLButtonElement>('nc-download-onnx');
  onnxButton.addEventListener(
    'click',
    () =>
      void busy(onnxButton, 'nc-sample-error', async () => {
        if (!session) throw new Error('Train a model first.');
        download(
          'next-char.onnx',
          await exportModelOnnx(session.trainer.model, await session.trainer.parameters(), { metadata: { vocabulary: JSON.stringify(session.vocab.chars) } }),
        );
      }),
  );
  byId<HTMLInputElement>('nc-load').addEventListener('change', (event) => {
    const file = (event.target as HTMLInputElement).files?.[0];
    if (!file) return;
    void busy(trainButton, 'nc-sample-error', async () => {
      const parsed = readSafetensors(new Uint8Array(await file.arrayBuffer()));
      if (!parsed.metadata.model || !parsed.metadata.vocabulary)
        throw new Error(`${file.name}: no model or vocabulary in its metadata (save one from this page, or with webgpu-rnn train --text)`);
      const model = resolveModelConfig(JSON.parse(parsed.metadata.model));
      const chars = JSON.parse(parsed.metadata.vocabulary) as string[];
      const vocab: Vocabulary = { chars, ids: new Map(chars.map((c, i) => [c, i])) };
      const trainer = await createTrainer({ model, weights: parsed, backend: page.backend });
      await newSession({ trainer, vocab });
      stats.textContent = `loaded ${file.name}: ${model.rnn.mode} ${model.rnn.hidden_size}×${model.rnn.num_layers}, ${chars.length} characters`;
    });
  });

  // Drop a text file on the box.
  textBox.addEventListener('dragover', (e) => {
    e.preventDefault();
    textBox.classList.add('dragging');
  });
  textBox.addEventListener('dragleave', () => textBox.classList.remove('dragging'));
  textBox.addEventListener('drop', (e) => {
    e.preventDefault();
    textBox.classList.remove('dragging');
    const file = e.dataTransfer?.files[0];
    if (file) void file.text().then((t) => (textBox.value = t));
  });
}
